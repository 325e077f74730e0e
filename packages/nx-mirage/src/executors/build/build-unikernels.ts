/**
 * Builds many unikernels with one dune invocation per dune root, whatever their target families: under the
 * root's lock, after the root files are in place and a preflight has checked tools, toolchains and
 * configuration; then copies each artifact into dist/ atomically and writes its manifest.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  abiProblem,
  artifactFileName,
  buildArtifactsCommand,
  buildManifest,
  buildDirFor,
  builtArtifactPath,
  configuredTarget,
  findlibToolchainsFor,
  inDir,
  isElf,
  manifestFileName,
  missingToolMessage,
  readSolo5Notes,
  targetInfo,
  undefinedToolchainMessage,
  xlFiles,
  ElfFormatError,
  duneCacheFailsWithoutCommit,
  type FindlibToolchain,
} from '../../domain';
import { copyFileAtomic, outsideOf, readTextIfExists, writeFileAtomically, writeFileVerified } from '../../adapters/files';
import { probe, runCommand } from '../../adapters/process';
import { onPath, toolchainFingerprint, type ToolchainCheck } from '../../adapters/toolchain';
import { pluginOptionsFromNxJson } from '../../options';
import { byDuneRoot, prepareDuneRoot, reducedWorkspace, removeTemporaryWorkspace, temporaryWorkspace, toolchainCheck, underDuneRootLock } from '../dune-root';
import { duneRootView, duniverseDirs } from '../model';
import { configureInLockedRoot } from '../configure/configure-unikernels';
import { ExecutorError, type LocatedUnikernel } from '../shared';

export interface BuildRequest {
  /** Task id (or any key the caller uses to read the outcome). */
  id: string;
  unikernel: LocatedUnikernel;
  duneRoot: string;
  /**
   * Configure flags: the unikernel is configured first where its configuration is missing or stale (a build
   * task depends on no configure task, so every build of a run becomes ready at once). Absent: the caller
   * configured it.
   */
  configureFlags?: string[];
}

export interface BuildOutcome {
  success: boolean;
  /** What the user should see for this unikernel: dune's output and nx-mirage's messages. */
  output: string;
}

export async function buildUnikernels(requests: BuildRequest[], context: ExecutorContext): Promise<Map<string, BuildOutcome>> {
  const outcomes = new Map<string, BuildOutcome>();
  for (const { duneRoot, root, group } of byDuneRoot(requests)) {
    await underDuneRootLock(root, duneRoot, () => buildInRoot(duneRoot, root, group, context, outcomes));
  }
  return outcomes;
}

async function buildInRoot(duneRoot: string, root: string, group: BuildRequest[], context: ExecutorContext, outcomes: Map<string, BuildOutcome>) {
  const fail = (r: BuildRequest, message: string, output = '') => {
    logger.error(`${r.unikernel.project}: ${message}`);
    outcomes.set(r.id, { success: false, output: `${output}${message}\n` });
  };
  try {
    await prepareDuneRoot(context, duneRoot);
  } catch (e) {
    for (const r of group) fail(r, (e as Error).message);
    return;
  }
  for (const tool of ['dune', 'ocamlfind']) {
    if (!(await onPath(tool))) {
      for (const r of group) fail(r, missingToolMessage(tool, 'to build unikernels'));
      return;
    }
  }

  // dune's environment (its git probe) is worked out while the unikernels are configured and checked.
  const environment = duneEnv(context, root);
  environment.catch(() => undefined); // awaited below when something is built; not unhandled when nothing is
  const configured = await configureStale(context, duneRoot, root, group, fail);
  const toolchainChecks = new Map<FindlibToolchain, Promise<ToolchainCheck>>();
  const ready: BuildRequest[] = [];
  for (const r of configured) {
    const problem = await preflight(r, root, toolchainChecks);
    if (problem) fail(r, problem);
    else ready.push(r);
  }
  if (ready.length === 0) return;

  const { env, note } = await environment;
  if (note) logger.info(note);
  // One dune call for everything the dune root's contexts build; a Unikraft backend they do not link gets its own.
  const targetsInUse = duneRootView(context, duneRoot).targets;
  const byBuildDir = new Map<string, BuildRequest[]>();
  for (const r of ready) {
    const dir = buildDirFor(r.unikernel.target, [...targetsInUse, r.unikernel.target]);
    byBuildDir.set(dir, [...(byBuildDir.get(dir) ?? []), r]);
  }
  for (const [buildDir, requests] of byBuildDir) {
    const targets = requests.map((r) => r.unikernel.target);
    const workspaceFile = buildDir === '_build' ? await reducedWorkspace(root, targets, toolchainChecks) : await temporaryWorkspace(targets);
    try {
      await runDune({ root, workspaceRoot: context.root, env, workspaceFile, buildDir }, requests, outcomes, fail);
    } finally {
      await removeTemporaryWorkspace(workspaceFile);
    }
  }
}

/**
 * Configures the requests that carry configure flags where their configuration is missing or stale (mirage
 * runs only then); one that fails to configure fails alone, with mirage's output. Returns the others.
 */
async function configureStale(context: ExecutorContext, duneRoot: string, root: string, group: BuildRequest[], fail: (r: BuildRequest, message: string, output?: string) => void): Promise<BuildRequest[]> {
  const requests = group.flatMap((r) => (r.configureFlags ? [{ id: r.id, unikernel: r.unikernel, duneRoot, flags: r.configureFlags }] : []));
  if (requests.length === 0) return group;
  const outcomes = await configureInLockedRoot(root, requests, true, duniverseDirs(duneRootView(context, duneRoot)), { ignoreDist: true });
  return group.filter((r) => {
    const outcome = outcomes.get(r.id);
    if (!outcome || outcome.success) return true;
    fail(r, `${inDir(r.unikernel.dir, 'config.ml')} could not be configured for ${r.unikernel.target} (mirage configure failed, output above)`, outcome.output.endsWith('\n') ? outcome.output : `${outcome.output}\n`);
    return false;
  });
}

interface DuneRun {
  /** The dune root, absolute. */
  root: string;
  workspaceRoot: string;
  env: Record<string, string | undefined>;
  workspaceFile: string | undefined;
  buildDir: string;
}

async function runDune(
  { root, workspaceRoot, env, workspaceFile, buildDir }: DuneRun,
  ready: BuildRequest[],
  outcomes: Map<string, BuildOutcome>,
  fail: (r: BuildRequest, message: string, output?: string) => void,
) {
  // The versions the manifests record are probed while dune builds.
  const toolchains = findlibToolchainsFor(ready.map((r) => r.unikernel.target));
  const fingerprinting = toolchainFingerprint(root, toolchains);
  const all = await runCommand(buildArtifactsCommand(ready.map((r) => r.unikernel), workspaceFile, buildDir), { cwd: root, env, capture: 'tee', purpose: 'to build unikernels' });
  let built: Array<{ r: BuildRequest; output: string }>;
  if (all.exitCode === 0) {
    built = ready.map((r) => ({ r, output: all.all }));
  } else {
    // One failing unikernel fails the shared invocation: build each alone (incremental, so cheap) to tell
    // which ones are broken and give each its own output.
    built = [];
    for (const r of ready) {
      const alone = ready.length === 1 ? all : await runCommand(buildArtifactsCommand([r.unikernel], workspaceFile, buildDir), { cwd: root, env, capture: true });
      if (alone.exitCode === 0) built.push({ r, output: alone.all });
      else fail(r, `dune build failed (exit code ${alone.exitCode})`, alone.all ? `${alone.all}\n` : '');
    }
  }

  const fingerprint = await fingerprinting;
  for (const { r, output } of built) {
    try {
      const summary = await promote(r.unikernel, buildDir, fingerprint as unknown as Record<string, unknown>, workspaceRoot);
      outcomes.set(r.id, { success: true, output: `${output}${output.endsWith('\n') || !output ? '' : '\n'}${summary}\n` });
      logger.info(summary);
    } catch (e) {
      if (!(e instanceof ExecutorError)) throw e;
      fail(r, e.message, output ? `${output}\n` : '');
    }
  }
}

/** Why a unikernel cannot be built now, with the command that fixes it; undefined when it can. */
async function preflight(r: BuildRequest, root: string, checks: Map<FindlibToolchain, Promise<ToolchainCheck>>): Promise<string | undefined> {
  const u = r.unikernel;
  const configureHint = `run: nx run ${u.project}:configure${` -c ${u.target}`}`;
  const context = await readTextIfExists(join(root, inDir(u.dir, 'mirage/context')));
  const dunebuild = await readTextIfExists(join(root, inDir(u.dir, 'dune.build')));
  if (context === undefined || dunebuild === undefined) {
    return `${inDir(u.dir, 'config.ml')} is not configured (no ${context === undefined ? 'mirage/context' : 'dune.build'}); ${configureHint}`;
  }
  const configured = configuredTarget(context) ?? 'unix';
  if (configured !== u.target) {
    return `${u.dir} is configured for ${configured}, not ${u.target}; ${configureHint}`;
  }
  const toolchain = targetInfo(u.target).toolchain;
  if (toolchain) {
    const result = await toolchainCheck(checks, toolchain, root);
    if (!result.defined) return undefinedToolchainMessage(toolchain, [u.target], result.reason);
  }
  return undefined;
}

/**
 * Checks the built artifact, then copies it (and Xen's xl files) into dist/ atomically and verified, and writes
 * its manifest beside it. Nothing is written when the artifact is not what its target runs, or when dist/
 * leads outside the workspace through a link; the previous artifact then stays as it was.
 */
async function promote(u: LocatedUnikernel, buildDir: string, toolchain: Record<string, unknown>, workspaceRoot: string): Promise<string> {
  const artifact = artifactFileName(u.name, u.target);
  const built = join(u.root, builtArtifactPath(u, buildDir));
  const shown = inDir(u.dir, `dist/${artifact}`);
  const bytes = await readFile(built).catch(() => undefined);
  if (!bytes) throw new ExecutorError(`dune finished but ${builtArtifactPath(u, buildDir)} is missing; is ${u.dir} configured for ${u.target}?`);
  let notes = {};
  if (isElf(bytes)) {
    try {
      notes = readSolo5Notes(bytes);
    } catch (e) {
      if (!(e instanceof ElfFormatError)) throw e;
      throw new ExecutorError(`${builtArtifactPath(u, buildDir)} is a malformed ELF file: ${e.message}; ${shown} is left as it was`);
    }
  }
  const problem = abiProblem(u.target, notes);
  if (problem) throw new ExecutorError(`${shown} is not a ${u.target} unikernel: ${problem}. The previous artifact, if any, is left as it was.`);

  const distDir = join(u.root, inDir(u.dir, 'dist'));
  const outside = await outsideOf(workspaceRoot, distDir);
  if (outside) {
    throw new ExecutorError(
      `${inDir(u.dir, 'dist/')} leads outside the workspace (to ${outside}) through a link; nx-mirage writes artifacts only inside the workspace. ` +
        'Remove the link (a dist/ directory is made for you) and build again.',
    );
  }
  const place = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ExecutorError(
        `cannot write ${inDir(u.dir, 'dist/')}: ${err.code ?? err.message} (${err.message}). Make room, or make the directory writable (and a directory), then build again; ` +
          `the previous artifact, if any, is left as it was.`,
      );
    }
  };
  await place(() => writeFileVerified(join(distDir, artifact), bytes, 0o755));
  for (const { from, to } of xlFiles(u)) await place(() => copyFileAtomic(join(u.root, inDir(u.dir, from)), join(u.root, inDir(u.dir, to))));
  const manifest = buildManifest({ name: u.name, target: u.target, artifact, bytes, notes, toolchain });
  await place(() => writeFileAtomically(join(distDir, manifestFileName(artifact)), JSON.stringify(manifest, null, 2) + '\n'));
  const devices = manifest.devices.length ? manifest.devices.map((d) => `${d.name} (${d.type})`).join(', ') : 'no devices';
  return `${u.project}: ${shown} (${u.target}, ${manifest.size} bytes, sha256 ${manifest.sha256.slice(0, 12)}, ${devices})`;
}

/**
 * dune's shared cache is on for builds unless the plugin option duneCache is false: identical compilation is
 * reused across unikernels, clones and `rm -rf _build`. Direct transport: no daemon, no port. An explicit
 * DUNE_CACHE in the environment wins.
 */
async function duneEnv(context: ExecutorContext, root: string): Promise<{ env: Record<string, string | undefined>; note?: string }> {
  const options = pluginOptionsFromNxJson(context.nxJsonConfiguration);
  const env: Record<string, string | undefined> = {};
  let note: string | undefined;
  if (options.duneCache && process.env['DUNE_CACHE'] === undefined && (await gitWithoutCommit(root)) && duneCacheFailsWithoutCommit(await probe('dune', ['--version'], root))) {
    note = 'nx-mirage: dune cache off for this build: the git repository has no commit yet, and dune 2.x fails to use its cache then.';
  } else if (options.duneCache && process.env['DUNE_CACHE'] === undefined) {
    env['DUNE_CACHE'] = 'enabled';
    env['DUNE_CACHE_TRANSPORT'] = 'direct';
  }
  if (options.duneCacheDir) env['XDG_CACHE_HOME'] = join(context.root, options.duneCacheDir);
  return { env, ...(note ? { note } : {}) };
}

/** Inside a git work tree whose HEAD does not resolve (a repository with no commit yet). */
async function gitWithoutCommit(root: string): Promise<boolean> {
  if ((await probe('git', ['rev-parse', '--is-inside-work-tree'], root)) !== 'true') return false;
  return (await probe('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], root)) === undefined;
}

export { ExecutorError };
