/**
 * Keeps the dune root ready before mirage or dune run in it: nx-mirage's dune-project, dune-workspace (with the
 * contexts of the targets in use) and root dune file, and every duniverse/ in place. Called while holding the
 * dune root lock.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from './log';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ROOT_FILES, declaredContexts, findlibToolchainsFor, planRootFiles, renderDuneWorkspace, rootHasUnikernel, targetInfo, undefinedToolchainMessage, type FindlibToolchain, type MirageTarget } from '../domain';
import { readTextIfExists, writeFileAtomically } from '../adapters/files';
import { withDuneRootLock } from '../adapters/lock';
import { checkFindlibToolchain, type ToolchainCheck } from '../adapters/toolchain';
import { tmpdir } from 'node:os';
import { duneRootView, duniverseDirs } from './model';
import { restoreHiddenDuniverses } from '../adapters/duniverse';
import { ExecutorError } from './shared';

export async function prepareDuneRoot(context: ExecutorContext, duneRoot: string): Promise<void> {
  const view = duneRootView(context, duneRoot);
  const root = join(context.root, duneRoot);
  const current = Object.fromEntries(await Promise.all(ROOT_FILES.map(async (f) => [f, await readTextIfExists(join(root, f))] as const)));
  const plan = planRootFiles(current, view.targets, rootHasUnikernel(view));
  if (plan.problems.length > 0) {
    // Each problem starts with the file name; prefix the dune root so the message names the file from the workspace root.
    throw new ExecutorError(plan.problems.map((p) => (duneRoot === '.' ? p : `${duneRoot}/${p}`)).join('\n'));
  }
  for (const [name, content] of Object.entries(plan.writes)) {
    await writeFileAtomically(join(root, name), content!);
  }
  // A configure that did not finish (killed) may have left vendored sources hidden.
  await restoreHiddenDuniverses(root, duniverseDirs(view));
}

/**
 * dune 2.9 sets up every context of the workspace, so one undefined cross toolchain would fail every build,
 * even of the host context. When a declared cross context's toolchain is undefined, a run uses a temporary
 * workspace file with only the contexts `targets` need (their toolchains passed preflight). Undefined
 * otherwise: the root dune-workspace is used as it is. The caller removes the file.
 */
export async function reducedWorkspace(root: string, targets: MirageTarget[], checks = new Map<FindlibToolchain, Promise<ToolchainCheck>>()): Promise<string | undefined> {
  const declared = declaredContexts((await readTextIfExists(join(root, 'dune-workspace'))) ?? '');
  let undefinedToolchain = false;
  for (const ctx of declared) {
    if (ctx !== 'solo5' && ctx !== 'unikraft') continue;
    if (!(await toolchainCheck(checks, ctx, root)).defined) undefinedToolchain = true;
  }
  if (!undefinedToolchain) return undefined;
  return temporaryWorkspace(targets);
}

/**
 * A temporary workspace file with the contexts `targets` need, for one dune run, in a directory of its own that
 * only this user can enter (no predictable name in the shared temp directory); removeTemporaryWorkspace removes it.
 */
export async function temporaryWorkspace(targets: readonly MirageTarget[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nx-mirage-workspace-'));
  const file = join(dir, 'dune-workspace');
  await writeFileAtomically(file, renderDuneWorkspace(targets));
  return file;
}

export async function removeTemporaryWorkspace(file: string | undefined): Promise<void> {
  if (file) await rm(dirname(file), { recursive: true, force: true });
}

/** The findlib toolchain check of `name`, made once per build however many unikernels and steps ask. */
export function toolchainCheck(checks: Map<FindlibToolchain, Promise<ToolchainCheck>>, name: FindlibToolchain, root: string): Promise<ToolchainCheck> {
  let check = checks.get(name);
  if (!check) checks.set(name, (check = checkFindlibToolchain(name, root)));
  return check;
}

/**
 * Why builds of `targets` cannot run in their cross contexts, or undefined: a cross context needs its findlib
 * toolchain (without it dune 3 would compile with the host compiler).
 */
export async function undefinedToolchainProblem(targets: readonly MirageTarget[], checks: Map<FindlibToolchain, Promise<ToolchainCheck>>, root: string): Promise<string | undefined> {
  for (const toolchain of findlibToolchainsFor(targets)) {
    const check = await toolchainCheck(checks, toolchain, root);
    if (!check.defined) return undefinedToolchainMessage(toolchain, targets.filter((t) => targetInfo(t).toolchain === toolchain), check.reason);
  }
  return undefined;
}

/** Runs `body` under the dune root's lock, saying so when another dune run in that root makes it wait. */
export function underDuneRootLock<T>(root: string, duneRoot: string, body: () => Promise<T>): Promise<T> {
  const where = duneRoot === '.' ? 'the workspace root' : duneRoot;
  return withDuneRootLock(root, body, () => logger.info(`nx-mirage: waiting for another dune run in ${where} to finish...`));
}

/**
 * Requests grouped by dune root, each group with the root's absolute path (one lock and one dune call each);
 * `located` says where a request's project is.
 */
export function byDuneRoot<R extends { duneRoot: string }>(requests: readonly R[], located: (r: R) => { root: string }): Array<{ duneRoot: string; root: string; group: R[] }> {
  const groups = new Map<string, R[]>();
  for (const r of requests) groups.set(r.duneRoot, [...(groups.get(r.duneRoot) ?? []), r]);
  return [...groups].map(([duneRoot, group]) => ({ duneRoot, root: located(group[0]!).root, group }));
}
