/**
 * Builds many unikernels, and the library directories of the same run, with one dune invocation per dune
 * root, whatever their target families: under the root's lock, after the root files are in place and a
 * preflight has checked tools, toolchains and configuration; then copies each artifact into dist/ atomically
 * and writes its manifest. A library is built in the contexts of the unikernels of the run that use it.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  abiProblem,
  artifactFileName,
  buildCommand,
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
  xlFiles,
  ElfFormatError,
  duneCacheFailsWithoutCommit,
  type FindlibToolchain,
  type Command,
  type LibraryBuild,
  type MirageTarget,
} from '../../domain';
import { copyFileAtomic, outsideOf, readTextIfExists, writeFileAtomically, writeFileVerified } from '../../adapters/files';
import { gitRepositoryWithoutCommit, probe, runCommand, type RunResult } from '../../adapters/process';
import { onPath, toolchainFingerprint, type ToolchainCheck } from '../../adapters/toolchain';
import { pluginOptionsFromNxJson } from '../../options';
import { byDuneRoot, prepareDuneRoot, reducedWorkspace, removeTemporaryWorkspace, temporaryWorkspace, toolchainCheck, undefinedToolchainProblem, underDuneRootLock } from '../dune-root';
import { duneRootView, duniverseDirs } from '../model';
import { configureInLockedRoot } from '../configure/configure-unikernels';
import { contextsOf, contextsOfDependents, uses } from '../library-contexts';
import { ExecutorError, locateProject, locateUnikernel, type LocatedProject, type LocatedUnikernel } from '../shared';
import type { ParsedBuildOptions } from './schema';

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

/** The build of a library directory (its default alias), in the batch of the unikernels of its dune root. */
export interface LibraryBuildRequest {
  id: string;
  library: LocatedProject;
  duneRoot: string;
  /** The name of its build target (to find the unikernel builds that depend on it when none is in this call). */
  targetName: string;
}

export interface BuildOutcome {
  success: boolean;
  /** What the user should see for this unikernel: dune's output and nx-mirage's messages. */
  output: string;
}

/** What a build failure is reported on: a unikernel's or a library's task. */
type Failing = BuildRequest | LibraryBuildRequest;

/** The request of a build task: a library build (options with `dir`) or a unikernel build, its project located. */
export function buildRequestFor(context: ExecutorContext, id: string, options: ParsedBuildOptions, project: string | undefined, targetName: string): Failing {
  if (options.dir !== undefined) return { id, library: locateProject(context, project, options.duneRoot), duneRoot: options.duneRoot, targetName };
  // The schema requires name and target where there is no dir.
  const unikernel = locateUnikernel(context, project, { name: options.name!, target: options.target!, duneRoot: options.duneRoot });
  return { id, unikernel, duneRoot: options.duneRoot, configureFlags: options.configureFlags };
}

type Fail = (r: Failing, message: string, output?: string) => void;
const located = (r: Failing) => ('unikernel' in r ? r.unikernel : r.library);
const isLibrary = (r: Failing): r is LibraryBuildRequest => 'library' in r;

type DuneEnvironment = { env: Record<string, string | undefined>; note?: string };

/**
 * What `nx serve` keeps from one rebuild to the next: dune's environment (its git probe) and the findlib
 * toolchain checks, by dune root, worked out at its first build instead of before each (about 20 ms of probes
 * before every dune call). serve forgets them after a build that fails and when config.ml changes, so that a fix
 * made outside the files it watches (a toolchain defined, a first commit) is seen at the next rebuild.
 */
export class BuildSession {
  private readonly roots = new Map<string, { environment: Promise<DuneEnvironment>; toolchainChecks: Map<FindlibToolchain, Promise<ToolchainCheck>> }>();

  /** The environment and the checks of `root`, started by `start` the first time. */
  of(root: string, start: () => Promise<DuneEnvironment>) {
    let kept = this.roots.get(root);
    if (!kept) {
      kept = { environment: start(), toolchainChecks: new Map() };
      this.roots.set(root, kept);
    }
    return kept;
  }

  forget(): void {
    this.roots.clear();
  }
}

/** Builds the unikernel and library requests of a run, one dune root at a time under its lock. */
export async function buildProjects(requests: Failing[], context: ExecutorContext, session = new BuildSession()): Promise<Map<string, BuildOutcome>> {
  const outcomes = new Map<string, BuildOutcome>();
  for (const { duneRoot, root, group } of byDuneRoot(requests, located)) {
    const unikernels = group.filter((r): r is BuildRequest => !isLibrary(r));
    await underDuneRootLock(root, duneRoot, () => buildInRoot(duneRoot, root, unikernels, group.filter(isLibrary), context, outcomes, session));
  }
  return outcomes;
}

async function buildInRoot(
  duneRoot: string,
  root: string,
  group: BuildRequest[],
  libraries: LibraryBuildRequest[],
  context: ExecutorContext,
  outcomes: Map<string, BuildOutcome>,
  session: BuildSession,
) {
  const fail: Fail = (r, message, output = '') => {
    logger.error(`${located(r).project}: ${message}`);
    outcomes.set(r.id, { success: false, output: `${output}${message}\n` });
  };
  const everything: Failing[] = [...group, ...libraries];
  try {
    await prepareDuneRoot(context, duneRoot);
  } catch (e) {
    for (const r of everything) fail(r, (e as Error).message);
    return;
  }
  for (const tool of ['dune', 'ocamlfind']) {
    if (!(await onPath(tool))) {
      for (const r of everything) fail(r, missingToolMessage(tool, group.length ? 'to build unikernels' : 'to build OCaml libraries'));
      return;
    }
  }

  // dune's environment (its git probe) is worked out while the unikernels are configured and checked.
  const { environment, toolchainChecks } = session.of(root, () => duneEnv(context, root));
  environment.catch(() => undefined); // awaited below when something is built; not unhandled when nothing is
  // The findlib toolchain checks the preflight asks for run while the configurations are checked.
  for (const toolchain of findlibToolchainsFor(group.map((r) => r.unikernel.target))) toolchainCheck(toolchainChecks, toolchain, root).catch(() => undefined);
  const configured = await configureStale(context, duneRoot, root, group, fail);
  const ready: BuildRequest[] = [];
  for (const r of configured) {
    const problem = await preflight(r, root, toolchainChecks);
    if (problem) fail(r, problem);
    else ready.push(r);
  }
  const readyLibraries = await librariesToBuild(libraries, ready, context, root, toolchainChecks, fail);
  if (ready.length === 0 && readyLibraries.length === 0) return;

  const { env, note } = await environment;
  if (note) logger.info(note);
  // One dune call for everything the dune root's contexts build; a Unikraft backend they do not link gets its own.
  const targetsInUse = duneRootView(context, duneRoot).targets;
  const byBuildDir = new Map<string, BuildRequest[]>();
  for (const r of ready) {
    const dir = buildDirFor(r.unikernel.target, [...targetsInUse, r.unikernel.target]);
    byBuildDir.set(dir, [...(byBuildDir.get(dir) ?? []), r]);
  }
  // Libraries go with the dune call of the main build directory.
  if (readyLibraries.length > 0 && !byBuildDir.has('_build')) byBuildDir.set('_build', []);
  for (const [buildDir, requests] of byBuildDir) {
    const libs = buildDir === '_build' ? readyLibraries : [];
    const targets = [...requests.map((r) => r.unikernel.target), ...libs.flatMap((l) => l.targets)];
    const workspaceFile = buildDir === '_build' ? await reducedWorkspace(root, targets, toolchainChecks) : await temporaryWorkspace(targets);
    try {
      await runDune({ root, workspaceRoot: context.root, env, workspaceFile, buildDir }, requests, libs, outcomes, fail);
    } finally {
      await removeTemporaryWorkspace(workspaceFile);
    }
  }
}

interface ReadyLibrary extends LibraryBuild {
  request: LibraryBuildRequest;
  targets: MirageTarget[];
}

/**
 * The contexts each library is built in: those of the unikernels of this call that use it, else those of the
 * unikernel builds of the run that depend on it, else the host's. A library whose cross toolchain is
 * undefined fails (undefinedToolchainProblem).
 */
async function librariesToBuild(
  libraries: LibraryBuildRequest[],
  unikernels: BuildRequest[],
  context: ExecutorContext,
  root: string,
  checks: Map<FindlibToolchain, Promise<ToolchainCheck>>,
  fail: Fail,
): Promise<ReadyLibrary[]> {
  const ready: ReadyLibrary[] = [];
  for (const l of libraries) {
    const users = unikernels.filter((r) => uses(context, r.unikernel.project, l.library.project)).map((r) => r.unikernel.target);
    const { contexts, targets } = users.length > 0 ? contextsOf(users) : contextsOfDependents(context, l.library.project, l.targetName);
    const problem = await undefinedToolchainProblem(targets, checks, root);
    if (problem) fail(l, problem);
    else ready.push({ request: l, dir: l.library.dir, contexts, targets });
  }
  return ready;
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

/** What one dune call builds: a library directory or a unikernel's artifact. */
type DuneItem = { library: ReadyLibrary } | { unikernel: BuildRequest };

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
  libraries: ReadyLibrary[],
  outcomes: Map<string, BuildOutcome>,
  fail: Fail,
) {
  const run = (c: Command, capture: 'tee' | true, purpose: string) => runCommand(c, { cwd: root, env, capture, purpose });
  const failed = (r: Failing, result: RunResult) => fail(r, `dune build failed (exit code ${result.exitCode})`, result.all ? `${result.all}\n` : '');
  // The libraries and the unikernels of the call in one dune call, as mirage-skeleton builds everything: dune
  // orders the work by what each target needs (README, Performance: one call against two, side by side).
  const items: DuneItem[] = [...libraries.map((library) => ({ library })), ...ready.map((unikernel) => ({ unikernel }))];
  const command = (xs: DuneItem[]) =>
    buildCommand({
      libraries: xs.flatMap((x) => ('library' in x ? [x.library] : [])),
      unikernels: xs.flatMap((x) => ('unikernel' in x ? [x.unikernel.unikernel] : [])),
      workspaceFile,
      buildDir,
    });
  const purpose = ready.length === 0 ? 'to build OCaml libraries' : libraries.length === 0 ? 'to build unikernels' : 'to build unikernels and OCaml libraries';
  const built: Array<{ r: BuildRequest; output: string }> = [];
  const building = together(items, command, purpose, run);
  // The versions the manifests record are probed while dune builds, once dune has started (spawning the probes
  // first held dune back by about 50 ms).
  const fingerprinting = ready.length > 0 ? toolchainFingerprint(root, findlibToolchainsFor(ready.map((r) => r.unikernel.target))) : undefined;
  for (const { item, result } of await building) {
    const request = 'library' in item ? item.library.request : item.unikernel;
    if (result.exitCode !== 0) failed(request, result);
    else if ('library' in item) outcomes.set(request.id, { success: true, output: result.all });
    else built.push({ r: item.unikernel, output: result.all });
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

/**
 * One dune call for `items`; when it fails, each alone (incremental, so cheap) to tell which ones are broken
 * and give each its own output. The result of each item.
 */
async function together<T>(items: T[], command: (items: T[]) => Command, purpose: string, run: (c: Command, capture: 'tee' | true, purpose: string) => Promise<RunResult>) {
  if (items.length === 0) return [];
  const all = await run(command(items), 'tee', purpose);
  if (all.exitCode === 0 || items.length === 1) return items.map((item) => ({ item, result: all }));
  const each: Array<{ item: T; result: RunResult }> = [];
  for (const item of items) each.push({ item, result: await run(command([item]), true, purpose) });
  return each;
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
  return undefinedToolchainProblem([u.target], checks, root);
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
async function duneEnv(context: ExecutorContext, root: string): Promise<DuneEnvironment> {
  const options = pluginOptionsFromNxJson(context.nxJsonConfiguration);
  const env: Record<string, string | undefined> = {};
  let note: string | undefined;
  if (options.duneCache && process.env['DUNE_CACHE'] === undefined && (await gitRepositoryWithoutCommit(root)) && duneCacheFailsWithoutCommit(await probe('dune', ['--version'], root))) {
    note = 'nx-mirage: dune cache off for this build: the git repository has no commit yet, and dune 2.x fails to use its cache then.';
  } else if (options.duneCache && process.env['DUNE_CACHE'] === undefined) {
    env['DUNE_CACHE'] = 'enabled';
    env['DUNE_CACHE_TRANSPORT'] = 'direct';
  }
  if (options.duneCacheDir) env['XDG_CACHE_HOME'] = join(context.root, options.duneCacheDir);
  return { env, ...(note ? { note } : {}) };
}

export { ExecutorError };
