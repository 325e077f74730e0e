/**
 * Which OCaml toolchain the executors run: the tools on PATH (the user's opam switch, Nix, the system) or the
 * switch nx-mirage manages, created or updated on demand. With the managed one, its environment is put into
 * this process before any tool runs, so every command nx-mirage starts (mirage, dune, opam, tenders) uses it.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { readdir } from 'node:fs/promises';
import type { ExecutorContext } from '@nx/devkit';
import {
  compilerPackageName,
  findlibToolchainsFor,
  guardRequirement,
  mergeRequirements,
  missingToolMessage,
  predictedSwitchPackages,
  readSwitchDependencies,
  readVersionGuard,
  type SwitchRequirement,
  type ToolchainSource,
  type ToolchainSpec,
  type UnikernelModel,
} from '../domain';
import { readTextIfExists } from '../adapters/files';
import { SWITCH_STATE_FILE, ToolchainError, ensureManagedSwitch, type ManagedToolchain } from '../adapters/managed-switch';
import { checkFindlibToolchain, findlibConfFiles, onPath } from '../adapters/toolchain';
import { opamPluginAvailable } from '../adapters/path-lookup';
import { pluginOptionsFromNxJson, toolchainOverridesFromEnv, type NormalizedPluginOptions } from '../options';
import { duneRoots, targetsInUse } from './model';

export interface ResolvedToolchain {
  source: ToolchainSource;
  /** Why this one: "mode managed", "mirage is not on PATH", ... */
  reason: string;
  managed?: ManagedToolchain;
}

/** Runtime overrides for CI and mirrors: they change the key like the nx.json options do. */
export function toolchainSettings(options: NormalizedPluginOptions, workspaceRoot: string, env: NodeJS.ProcessEnv = process.env) {
  const t = options.toolchain;
  const overrides = toolchainOverridesFromEnv(env);
  const dir = overrides.NX_MIRAGE_TOOLCHAIN_DIR ?? t.dir;
  const repository = overrides.NX_MIRAGE_OPAM_REPOSITORY;
  return {
    mode: t.mode,
    dir: isAbsolute(dir) ? dir : resolve(workspaceRoot, dir),
    compiler: overrides.NX_MIRAGE_OPAM_COMPILER ?? t.compiler,
    repositories: repository ? [{ name: 'default', url: repository }] : t.repositories,
  };
}

/** The switch-scope tools of a unikernel: mirage 4.11.1's table for its target, its generated opam files, its version guard. */
async function unikernelRequirements(workspaceRoot: string, u: UnikernelModel): Promise<SwitchRequirement[][]> {
  const lists: SwitchRequirement[][] = [predictedSwitchPackages(u.target)];
  const guard = u.versionGuard ? readVersionGuard(u.versionGuard) : undefined;
  const fromGuard = guard && 'constraints' in guard ? guardRequirement(guard.constraints) : undefined;
  if (fromGuard) lists.push([fromGuard]);
  for (const file of await generatedOpamFiles(workspaceRoot, u)) {
    const text = await readTextIfExists(file);
    if (text) lists.push(readSwitchDependencies(text));
  }
  return lists;
}

/** The opam files configure generated for a unikernel (`mirage/*.opam`), as absolute paths. */
async function generatedOpamFiles(workspaceRoot: string, u: UnikernelModel): Promise<string[]> {
  const dir = join(workspaceRoot, u.root, 'mirage');
  return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.opam')).map((f) => join(dir, f));
}

const allUnikernels = (context: ExecutorContext) => duneRoots(context).flatMap((r) => r.unikernels);

/** The toolchain every unikernel of the workspace needs, with the compiler and repositories of the options. */
export async function workspaceToolchainSpec(context: ExecutorContext, options = pluginOptionsFromNxJson(context.nxJsonConfiguration)): Promise<ToolchainSpec> {
  const settings = toolchainSettings(options, context.root);
  const lists = (await Promise.all(allUnikernels(context).map((u) => unikernelRequirements(context.root, u)))).flat();
  for (const target of options.additionalTargets) lists.push(predictedSwitchPackages(target));
  if (lists.length === 0) lists.push(predictedSwitchPackages('unix'));
  return { compiler: settings.compiler, repositories: settings.repositories, packages: mergeRequirements(lists) };
}

/**
 * What is missing from PATH for the targets in use; empty when the user's toolchain can do the job. mirage,
 * opam and opam-monorepo only where there is a unikernel: OCaml libraries alone need dune and ocamlfind.
 */
export async function missingFromPath(context: ExecutorContext, options: NormalizedPluginOptions): Promise<string[]> {
  const unikernels = allUnikernels(context).length > 0;
  const depends = unikernels && options.monorepo;
  const tools = [...(unikernels ? ['mirage'] : []), 'dune', 'ocamlfind', ...(depends ? ['opam'] : [])];
  const missing: string[] = [];
  await Promise.all(tools.map(async (t) => (await onPath(t)) || missing.push(missingToolMessage(t))));
  if (missing.length > 0) return missing;
  if (depends && !(await opamPluginAvailable('monorepo'))) missing.push(missingToolMessage('opam-monorepo'));
  for (const tc of findlibToolchainsFor(targetsInUse(context, options))) {
    const check = await checkFindlibToolchain(tc, context.root);
    if (!check.defined) missing.push(`the findlib toolchain "${tc}" is not defined: ${check.reason}`);
  }
  return missing;
}

const resolved = new Map<string, Promise<ResolvedToolchain>>();

/** This process's environment before a managed switch's was put into it: the one Nx runs runtime inputs in. */
let launchEnv: NodeJS.ProcessEnv | undefined;

export function environmentBeforeToolchain(): NodeJS.ProcessEnv {
  return launchEnv ?? process.env;
}

/**
 * The files and directories the toolchain record is derived from, for its stamp: every unikernel's config.ml
 * and generated opam files (the switch requirements), the managed switch's state, and the findlib
 * configuration that defines the cross toolchains in use (mode "auto" checks it).
 */
export async function toolchainStampFiles(context: ExecutorContext, options: NormalizedPluginOptions, env: NodeJS.ProcessEnv): Promise<string[]> {
  const files: string[] = [join(toolchainSettings(options, context.root, env).dir, SWITCH_STATE_FILE)];
  for (const u of allUnikernels(context)) {
    files.push(join(context.root, u.root, 'config.ml'), join(context.root, u.root, 'mirage'), ...(await generatedOpamFiles(context.root, u)));
  }
  files.push(...(await findlibConfFiles(findlibToolchainsFor(targetsInUse(context, options)), env, context.root)));
  return files;
}

/**
 * Resolves the toolchain once per process and workspace, and with a managed switch puts its environment
 * into this process. `log` receives what was decided and what opam did.
 */
export function useToolchain(context: ExecutorContext, log: (line: string) => void = () => undefined): Promise<ResolvedToolchain> {
  const options = pluginOptionsFromNxJson(context.nxJsonConfiguration);
  const settings = toolchainSettings(options, context.root);
  if (settings.mode === 'path') return Promise.resolve({ source: 'path', reason: 'the nx-mirage option toolchain.mode is "path"' });
  const memoKey = `${context.root}\0${settings.dir}`;
  let found = resolved.get(memoKey);
  if (!found) {
    found = resolveToolchain(context, options, settings, log);
    resolved.set(memoKey, found);
    found.catch(() => resolved.delete(memoKey));
  }
  return found;
}

async function resolveToolchain(
  context: ExecutorContext,
  options: NormalizedPluginOptions,
  settings: ReturnType<typeof toolchainSettings>,
  log: (line: string) => void,
): Promise<ResolvedToolchain> {
  let reason = 'the nx-mirage option toolchain.mode is "managed"';
  if (settings.mode === 'auto') {
    const missing = await missingFromPath(context, options);
    if (missing.length === 0) return { source: 'path', reason: 'every tool the unikernels need is on PATH (toolchain.mode "auto")' };
    reason = `toolchain.mode is "auto" and ${missing[0]!.replace(/;.*$/s, '')}`;
  }
  const spec = await workspaceToolchainSpec(context, options);
  const managed = await ensureManagedSwitch({ dir: settings.dir, spec, log, showOpamOutput: true }).catch((e: unknown) => {
    // Say why a managed switch was wanted at all: often the fix is the tool missing from PATH.
    if (e instanceof ToolchainError) throw new ToolchainError(`nx-mirage needs its managed opam switch because ${reason}.\n${e.message}`);
    throw e;
  });
  launchEnv ??= { ...process.env };
  Object.assign(process.env, managed.env);
  if (managed.action !== 'reused') {
    log(`nx-mirage: managed toolchain ${managed.action} (key ${managed.key}, ${compilerPackageName(spec.compiler)})${managed.changes.length ? `: ${managed.changes.join(', ')}` : ''}`);
  }
  return { source: 'managed', reason, managed };
}

/** For tests: forget resolved toolchains (each test workspace resolves its own). */
export function forgetResolvedToolchains(): void {
  resolved.clear();
  launchEnv = undefined;
}
