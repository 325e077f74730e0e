/**
 * One small function per inferred target, each reading the dune root's model and the plugin options: the
 * dune root project's workspace-wide targets (toolchain, lock, install-switch, pull, depends), a unikernel's
 * own (configure, build, run, clean) and a library's (build, test, format).
 */
import type { TargetConfiguration, TargetDependencyConfig } from '@nx/devkit';
import { createHash } from 'node:crypto';
import {
  CONFIGURE_OUTPUTS,
  TOOLCHAIN_RECORD,
  TOOLCHAIN_VERSIONS,
  VERSION_PROBES,
  WORKSPACE_LOCK_FILE,
  allTargets,
  artifactFileName,
  crossCompilerProbe,
  dependsMembersDigest,
  findlibToolchainsFor,
  inDir,
  lockVersionsJsonPath,
  probeAsShellCommand,
  relativeToDuneRoot,
  targetInfo,
  toolchainVersionsGlob,
  type DuneRootModel,
  type LibraryModel,
  type MirageTarget,
  type UnikernelModel,
  type VersionedTool,
  watchedDirectories,
} from '../domain';
import type { NormalizedPluginOptions } from '../options';

export const TECHNOLOGIES = ['mirage', 'ocaml', 'dune'];

/** Keeps the root dune-project and dune-workspace in step with the targets in use (nx sync). */
export const SYNC_GENERATOR = 'nx-mirage:sync-dune-root';

/** Declared so that npm lockfile changes never reach a target's hash (an absent list means all packages). */
const NO_NPM_PACKAGES = { externalDependencies: [] as string[] };

/** What every target builder reads. */
export interface TargetContext {
  options: NormalizedPluginOptions;
  model: DuneRootModel;
  /** The named input for dependencies' files: `production` where nx.json defines it, else `default`. */
  production: string;
  /** The key inputs of the cached toolchain target. */
  toolchainKey: ToolchainKeyInputs;
  /** The runtime input of the cached pull target: nx-mirage's bin/depends-stamp for this dune root. */
  dependsStampCommand: string;
}

/** What keys the cached toolchain target. */
export interface ToolchainKeyInputs {
  /** Runtime inputs: the stamp check (nx-mirage's bin/toolchain-stamp; modes "auto" and "managed"), then the version probes of the tools in use. */
  runtime: { runtime: string }[];
  /** Digest of the unikernel directories and their targets: one added, removed or retargeted changes the key. */
  unikernels: string;
}

/**
 * A target's technology: one per target (the project lists them all). Every entry of a target, and every
 * element of its lists, is sent to each Nx command with the graph and its source map (figure 4c of the bench).
 */
const MIRAGE = ['mirage'];
const DUNE = ['dune'];

type TargetMetadata = NonNullable<TargetConfiguration['metadata']>;

function metadata(description: string, command: string, example: Record<string, unknown> = {}, technologies = MIRAGE): TargetMetadata {
  return { technologies, description, help: { command, example: Object.keys(example).length ? { options: example } : {} } };
}

/**
 * Globs under `prefix` as one Nx pattern with `{a,b}` alternatives (Nx matches inputs and outputs with brace
 * alternation): one entry of the graph instead of one per glob. Globs that contain a comma or a brace
 * themselves (a directory named so) stay separate patterns.
 */
function anyOf(prefix: string, globs: readonly string[]): string[] {
  if (globs.length < 2 || globs.some((g) => /[{},]/.test(g))) return globs.map((g) => `${prefix}${g}`);
  return [`${prefix}{${globs.join(',')}}`];
}

/** The version probes of compiling for `targets`: dune, the host compiler and each cross toolchain they need. */
function compilerProbes(targets: readonly MirageTarget[]): { runtime: string }[] {
  const probes = [VERSION_PROBES.dune, VERSION_PROBES.ocaml, ...findlibToolchainsFor(targets).sort().map(crossCompilerProbe)];
  return probes.map((p) => ({ runtime: probeAsShellCommand(p) }));
}

/** The version probes of building unikernels of `targets`: mirage's, and the compilers'. */
export function buildProbes(targets: readonly MirageTarget[]): { runtime: string }[] {
  return [{ runtime: probeAsShellCommand(VERSION_PROBES.mirage) }, ...compilerProbes(targets)];
}

/**
 * The key inputs of the cached toolchain target: the stamp check where nx-mirage may choose or manage the
 * toolchain (none in mode "path", where the record is the probes' versions and nothing else), and the version
 * probes of every target in use, which run once per Nx run there and nowhere else.
 */
export function toolchainKeyInputs(stampCommand: string | undefined, model: DuneRootModel): ToolchainKeyInputs {
  const set = [...model.unikernels.map((u) => `${u.root}\t${u.target}`).sort(), ...model.targets];
  return {
    runtime: [...(stampCommand ? [{ runtime: stampCommand }] : []), ...buildProbes(model.targets)],
    unikernels: createHash('sha256').update(set.join('\n')).digest('hex').slice(0, 16),
  };
}

/**
 * What a unikernel's `locked-versions` target hashes: the locked versions of its packages and their locked
 * closure (fields of the lockfile's JSON view), or its own lockfile (lockScope "unikernel").
 */
function lockedVersionsInputs(ctx: TargetContext, u: UnikernelModel) {
  return [
    ...lockVersionsInput(ctx, ctx.model.lockFields[u.project] ?? u.packages),
    ...(ctx.options.monorepo && ctx.options.lockScope === 'unikernel' ? ['{projectRoot}/mirage/*.opam.locked'] : []),
  ];
}

/** Whether a unikernel has a `locked-versions` target (lockedVersionsTarget): where there are locked versions to carry. */
const hasLockedVersions = (ctx: TargetContext, u: UnikernelModel) => lockedVersionsInputs(ctx, u).length > 0;

/**
 * `locked-versions` of a unikernel (an `nx:noop`, no process): carries the locked versions of its packages for
 * nx affected, which compares exactly those fields between revisions, so a lockfile bump makes exactly the
 * unikernels using a bumped package (directly or through others) affected; its build depends on it, and the
 * change reaches the build through the lockfile input the build has for pull's output. Not on the build
 * itself: which fields (the locked closure) is known only after a pull, and the build's key must not change
 * with it.
 *
 * Cached, so that a run in which the locked versions did not change resolves every unikernel's at once from
 * the cache instead of running them a few at a time between the builds (Nx runs a batch before it dispatches
 * more tasks, which would split the builds of a run into several dune calls). Its output is a path of its own
 * that nothing writes, matched by the build's lockfile input (dependentTasksOutputFiles): Nx carries an affected
 * change from this task to its dependents only when it has an output (with none, e2e graph.spec fails); a path
 * of its own, because with the lockfile itself as its output (as before) a change reaching one unikernel's
 * no-op reached every task reading the lockfile, and a cache hit must never restore an old lockfile.
 */
export const LOCKED_VERSIONS_TARGET = 'locked-versions';

export function lockedVersionsTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration | undefined {
  const inputs = lockedVersionsInputs(ctx, u);
  if (inputs.length === 0) return undefined;
  return {
    executor: 'nx:noop',
    cache: true,
    inputs: [...inputs, NO_NPM_PACKAGES],
    outputs: [`{workspaceRoot}/${inDir(ctx.model.projectRoot, `${LOCKED_VERSIONS_TARGET}/${u.project}.opam.locked`)}`],
    metadata: metadata(
      "The locked versions of this unikernel's packages and of what they depend on, for nx affected (does nothing when run)",
      `nx run ${u.project}:${LOCKED_VERSIONS_TARGET} --help`,
    ),
  };
}

/**
 * A library build waits for the toolchain (whose version files it hashes) and for the dune root's pull, where
 * there is one (a dune root with unikernels): it may use vendored packages.
 */
function libraryDependsOn(ctx: TargetContext): Array<string | TargetDependencyConfig> {
  const pull = ctx.options.monorepo && ctx.model.unikernels.length > 0;
  return [`^${ctx.options.buildTargetName}`, onToolchain(ctx), ...(pull ? [onRoot(ctx, ctx.options.pullTargetName)] : [])];
}

const managesToolchain = (options: NormalizedPluginOptions) => options.toolchain.mode !== 'path';

/** A dependency on a target of the dune root project. */
function onRoot(ctx: TargetContext, target: string): TargetDependencyConfig {
  return { projects: [ctx.model.project], target };
}

const onToolchain = (ctx: TargetContext) => onRoot(ctx, ctx.options.toolchainTargetName);

/**
 * The versions of `tools` in a compiling target's key: the toolchain task's version files (TOOLCHAIN_VERSIONS),
 * read after it ran or came from the cache, in every mode. A direct dependency: Nx reads the outputs of direct
 * dependencies only.
 */
function toolVersions(ctx: TargetContext, tools: readonly VersionedTool[]) {
  return { dependsOn: onToolchain(ctx), input: { dependentTasksOutputFiles: toolchainVersionsGlob(tools) } };
}

/** The tools a unikernel's build runs: mirage (configure), dune, and the compilers of its target. */
const unikernelTools = (u: UnikernelModel): VersionedTool[] => ['mirage', 'dune', 'ocaml', ...findlibToolchainsFor([u.target])];

/** The tools a library's build runs: dune and the compilers of every target in use (it builds in their contexts). */
const libraryTools = (ctx: TargetContext): VersionedTool[] => ['dune', 'ocaml', ...findlibToolchainsFor(ctx.model.targets).sort()];

/** dependsOn and inputs that make a target run after the toolchain is ready and hash its record (modes "auto", "managed"). */
function toolchainDependency(ctx: TargetContext) {
  if (!managesToolchain(ctx.options)) return { dependsOn: [] as TargetDependencyConfig[], inputs: [] as Array<{ dependentTasksOutputFiles: string }> };
  return {
    dependsOn: [onToolchain(ctx)],
    inputs: [{ dependentTasksOutputFiles: TOOLCHAIN_RECORD }],
  };
}

/**
 * The versions of the packages a project uses, from the JSON view of the lockfile: `nx affected` compares
 * exactly these fields between revisions, so a lockfile bump reaches exactly the projects using the package.
 */
function lockVersionsInput(ctx: TargetContext, packages: readonly string[]): Array<{ json: string; fields: string[] }> {
  const { options, model } = ctx;
  if (!options.monorepo || options.lockScope !== 'workspace' || packages.length === 0) return [];
  return [{ json: `{workspaceRoot}/${lockVersionsJsonPath(inDir(model.duneRoot, WORKSPACE_LOCK_FILE))}`, fields: [...new Set(packages)].sort() }];
}

/** The opam packages a project uses, as Nx external nodes (`opam:NAME`, versioned by the lockfile): only those. */
function opamInputs(packages: readonly string[]): { externalDependencies: string[] } {
  return { externalDependencies: [...new Set(packages)].sort().map((p) => `opam:${p}`) };
}

const rootFile = (ctx: TargetContext, file: string) => `{workspaceRoot}/${inDir(ctx.model.duneRoot, file)}`;

/** Files generated in a unikernel's directory, relative to it: configure's, and what build, lock and pull leave there. */
const GENERATED = ['dist/**/*', '_build/**/*', 'duniverse/**/*', 'mirage/*.opam.locked', ...CONFIGURE_OUTPUTS.filter((p) => !p.startsWith('dist/'))];

/**
 * What dune reads for a directory beyond its own files: the root dune-project and dune-workspace, and the
 * `dune` file of every directory above it up to the dune root (an `env` stanza there changes its flags). With
 * `"monorepo": false`, a duniverse/ the user keeps at the dune root (git-ignored or not) is read too.
 */
function duneRootInputs(ctx: TargetContext, projectRoot: string): Array<string | { fileset: string; includeIgnored: boolean }> {
  const { model, options } = ctx;
  const dir = relativeToDuneRoot(projectRoot, model.duneRoot);
  const above = dir === '.' ? [] : ['.', ...dir.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))];
  return [
    ...anyOf('{workspaceRoot}/', ['dune-project', 'dune-workspace', ...above.map((d) => inDir(d, 'dune'))].map((f) => inDir(model.duneRoot, f))),
    ...(options.monorepo ? [] : [{ fileset: rootFile(ctx, 'duniverse/**/*'), includeIgnored: true }]),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The dune root project. Every target has explicit inputs without file sets of its own: the project's root is
// the git-ignored .nx-mirage/, so it owns no file, and Nx fails to hash default inputs of a project without files.

/**
 * `toolchain`: resolves the toolchain (the tools on PATH, or the managed opam switch, created or updated),
 * says which and why, and writes the record configure hashes and the version files builds hash. Cached, keyed
 * by the version probes, the set of unikernels and, in modes "auto" and "managed", the digest of the stamp its
 * last run left (a runtime input: fresh whenever what the record came from changed); it has no file inputs, so
 * `nx affected` never reaches every build through it.
 */
export function toolchainTarget(ctx: TargetContext): TargetConfiguration {
  const key = ctx.toolchainKey;
  return {
    executor: 'nx-mirage:toolchain',
    options: { unikernels: key.unikernels },
    cache: true,
    inputs: [...key.runtime, NO_NPM_PACKAGES],
    outputs: [`{workspaceRoot}/${TOOLCHAIN_RECORD}`, `{workspaceRoot}/${TOOLCHAIN_VERSIONS}`],
    metadata: metadata(
      managesToolchain(ctx.options)
        ? 'Create, update or reuse the OCaml toolchain (managed opam switch, or the tools on PATH) and show its key and versions; cached while nothing it depends on changed'
        : 'Check the OCaml toolchain on PATH that builds the unikernels (what is missing) and record its versions, which builds hash; cached while the versions are the same',
      `nx run ${ctx.model.project}:${ctx.options.toolchainTargetName} --help`,
    ),
  };
}

/** The lockfiles of the dune root (and the JSON view of the shared one): what lock and pull leave for builds to hash. */
function lockOutputs(ctx: TargetContext): string[] {
  const { options, model } = ctx;
  return options.lockScope === 'workspace'
    ? [rootFile(ctx, WORKSPACE_LOCK_FILE), rootFile(ctx, lockVersionsJsonPath(WORKSPACE_LOCK_FILE))]
    : model.unikernels.map((u) => `{workspaceRoot}/${inDir(u.root, 'mirage')}/*.opam.locked`);
}

/**
 * How lock and pull are cached: under the dependencies stamp the pull leaves (a runtime input: the same while
 * no config.ml, configure result, opam file, lockfile, duniverse/, tool or environment variable they read
 * changed) and the set of unikernels (in the options), so that a run in which none of it changed starts no
 * process for either. No file inputs: `nx affected` never reaches every build through them.
 */
function dependsKey(ctx: TargetContext) {
  const { options, model } = ctx;
  return {
    options: { duneRoot: model.duneRoot, scope: options.lockScope, unikernels: dependsMembersDigest(model.unikernels) },
    cache: true,
    syncGenerators: [SYNC_GENERATOR],
    inputs: [{ runtime: ctx.dependsStampCommand }, NO_NPM_PACKAGES],
  };
}

/**
 * `lock`: configures the unikernels whose configuration is missing or stale, then locks them with
 * opam-monorepo (one lockfile for the dune root, or one per unikernel). It depends on no configure task, so
 * a unikernel whose config.ml is broken is left out (with a warning) and the others still lock, pull and build.
 */
export function lockTarget(ctx: TargetContext): TargetConfiguration {
  const { options } = ctx;
  const workspace = options.lockScope === 'workspace';
  return {
    executor: 'nx-mirage:lock',
    ...dependsKey(ctx),
    dependsOn: toolchainDependency(ctx).dependsOn,
    outputs: lockOutputs(ctx),
    metadata: metadata(
      workspace
        ? 'Configure what is not configured, then lock every unikernel of the dune root together with opam-monorepo into mirage.opam.locked; skipped while it was locked from the same opam files, cached while nothing it read changed'
        : "Configure what is not configured, then lock each unikernel's dependencies with opam-monorepo into its mirage/ directory; skipped while each was locked from the same opam file, cached while nothing it read changed",
      'opam monorepo lock --help=plain',
      { force: true },
    ),
  };
}

/** `install-switch`: `opam install` of the switch tools every unikernel's opam file asks for (mirage, solo5, ocaml-solo5, ...); never cached. */
export function installSwitchTarget(ctx: TargetContext): TargetConfiguration {
  const { options, model } = ctx;
  return {
    executor: 'nx-mirage:install-switch',
    options: { duneRoot: model.duneRoot },
    dependsOn: options.monorepo ? [options.lockTargetName] : toolchainDependency(ctx).dependsOn,
    cache: false,
    inputs: [NO_NPM_PACKAGES],
    metadata: metadata('Install the switch tools of every unikernel (mirage, solo5, ocaml-solo5, ...) with opam; never cached', 'opam install --help=plain'),
  };
}

/**
 * `pull`: vendors the locked sources into duniverse/ (one at the dune root, or one per unikernel), skipped
 * while duniverse/ holds them, after configuring and locking what is not current itself, as `lock` does: a
 * build's run has no lock task, only this one. It leaves the dependencies stamp lock and pull are cached under
 * (dependsKey). Its outputs are the lockfiles, not duniverse/ (large, and shared): a lockfile bump reaches a
 * unikernel's build through the lockfile fields that build hashes.
 */
export function pullTarget(ctx: TargetContext): TargetConfiguration {
  const { options } = ctx;
  const workspace = options.lockScope === 'workspace';
  return {
    executor: 'nx-mirage:pull',
    ...dependsKey(ctx),
    // Not on lock: pull locks what is not locked itself, in the same process (one executor start less per run).
    // On every unikernel's locked-versions: see lockedVersionsOfAll.
    dependsOn: [...toolchainDependency(ctx).dependsOn, ...lockedVersionsOfAll(ctx)],
    outputs: lockOutputs(ctx),
    metadata: metadata(
      workspace
        ? 'Vendor the shared lockfile into the dune root duniverse/ (opam monorepo pull), once per lockfile, locking first where the lock is not current; cached while nothing it read changed'
        : "Vendor each unikernel's lockfile into its duniverse/ (opam monorepo pull), once per lockfile, locking first where the lock is not current; cached while nothing it read changed",
      'opam monorepo pull --help=plain',
    ),
  };
}

/**
 * Every unikernel's `locked-versions`, which pull waits for: so when pull is done every build of the run is
 * ready too, and Nx hands them all to one batch (a no-op left to run after pull came from the cache would run
 * only after a batch of the others). Their outputs are paths of their own that pull does not read, so nx
 * affected carries no change from them to pull and through it to every build (e2e graph.spec).
 */
function lockedVersionsOfAll(ctx: TargetContext): TargetDependencyConfig[] {
  const projects = ctx.model.unikernels.filter((u) => hasLockedVersions(ctx, u)).map((u) => u.project);
  return projects.length ? [{ projects, target: LOCKED_VERSIONS_TARGET }] : [];
}

/** `depends`: what `make depends` does, for every unikernel of the dune root. */
export function dependsTarget(ctx: TargetContext): TargetConfiguration {
  const { options } = ctx;
  return {
    executor: 'nx:noop',
    dependsOn: options.monorepo ? [options.installSwitchTargetName, options.pullTargetName] : [options.installSwitchTargetName],
    cache: false,
    // Explicit: the dune root project owns no file, and Nx's default inputs would have it look for some.
    inputs: [NO_NPM_PACKAGES],
    metadata: metadata(
      options.monorepo ? 'Lock, install switch tools and pull sources for every unikernel, as `make depends` does' : 'Install switch tools for every unikernel, as `make depends` does',
      `nx run ${ctx.model.project}:${options.dependsTargetName} --help`,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------
// A unikernel

/** The targets selectable with `-c TARGET` for a unikernel: every supported one, and its own. */
function perTarget<T extends object>(u: UnikernelModel, f: (t: MirageTarget) => T): Record<string, T> {
  return Object.fromEntries(allTargets().filter((t) => t.supported || t.target === u.target).map((t) => [t.target, f(t.target)]));
}

/**
 * Options whose value is the executors' default are left out (a dune root at the workspace root, no configure
 * flags): every entry is sent to each Nx command with the graph and its source map (figure 4c of the bench).
 */
const duneRootOption = (ctx: TargetContext) => (ctx.model.duneRoot === '.' ? {} : { duneRoot: ctx.model.duneRoot });
const configureFlagsOption = (u: UnikernelModel) => (u.configureFlags.length ? { configureFlags: u.configureFlags } : {});

const identity = (ctx: TargetContext, u: UnikernelModel, t: MirageTarget = u.target) => ({ name: u.name, target: t, ...duneRootOption(ctx) });

/**
 * Options naming the unikernel, and a configuration per target switching it (`nx run NAME:run -c spt`). A
 * configuration holds only what it changes: the graph and its source map grow with every entry.
 */
function targetOptions(ctx: TargetContext, u: UnikernelModel, extra: object = {}) {
  return { options: { ...identity(ctx, u), ...extra }, configurations: perTarget(u, (t) => ({ target: t })) };
}

/**
 * The same, with the artifact's file name, which the build's outputs name (`{options.artifact}`), so each
 * configuration switches both (`nx build NAME -c spt`).
 */
function artifactOptions(ctx: TargetContext, u: UnikernelModel, extra: object = {}) {
  return {
    options: { ...identity(ctx, u), artifact: artifactFileName(u.name, u.target), ...extra },
    configurations: perTarget(u, (t) => ({ target: t, artifact: artifactFileName(u.name, t) })),
  };
}

/** `configure`: `mirage configure -f DIR/config.ml -t TARGET FLAGS` from the dune root; cached by config.ml, the flags and mirage's version. */
export function configureTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  const toolchain = toolchainDependency(ctx);
  return {
    executor: 'nx-mirage:configure',
    ...targetOptions(ctx, u, configureFlagsOption(u)),
    cache: true,
    ...(toolchain.dependsOn.length ? { dependsOn: toolchain.dependsOn } : {}),
    syncGenerators: [SYNC_GENERATOR],
    inputs: [
      '{projectRoot}/config.ml',
      { runtime: probeAsShellCommand(VERSION_PROBES.mirage) },
      ...toolchain.inputs,
      { env: 'MIRAGE_EXTRA_REPOS' },
      NO_NPM_PACKAGES,
    ],
    outputs: anyOf('{projectRoot}/', CONFIGURE_OUTPUTS),
    metadata: metadata('Generate the dune rules, main.ml and opam file of this unikernel (mirage configure), with editor support for config.ml beside the unikernel (dune ocaml-merlin)', 'mirage configure --help=plain', {
      target: 'spt',
      configureFlags: ['--no-dhcp'],
    }),
  };
}

/**
 * `build`: configures what is stale, then one dune invocation for every unikernel build of the run (batch
 * executor), then the artifact and its manifest into dist/. Its dependencies are the same for every unikernel
 * of the dune root (toolchain, pull, libraries) besides its own no-op locked-versions and what it uses, so the
 * builds of a run become ready together and Nx hands them all to one batch.
 */
export function buildTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  const { options } = ctx;
  const versions = toolVersions(ctx, unikernelTools(u));
  return {
    executor: 'nx-mirage:build',
    // The configure flags shape the generated rules, so they belong in the build's hash.
    ...artifactOptions(ctx, u, configureFlagsOption(u)),
    // No configure task: the build configures what is stale itself. It waits for the toolchain, the dune root's
    // pull and its own locked-versions, and ^build: what it uses itself (its libraries, a served web app). Library
    // builds use this executor too and wait for the pull as well, so the builds of a run become ready together and
    // Nx hands them to one batch (one dune call for the libraries and the unikernels).
    dependsOn: [
      versions.dependsOn,
      ...(options.monorepo ? [onRoot(ctx, options.pullTargetName)] : []),
      ...(hasLockedVersions(ctx, u) ? [LOCKED_VERSIONS_TARGET] : []),
      `^${options.buildTargetName}`,
    ],
    cache: true,
    syncGenerators: [SYNC_GENERATOR],
    inputs: [
      ...unikernelSources(u),
      // Not what the build and dune write, nor duniverse/, which pull makes from the lockfile (hashed below as
      // lock left it). Nor the files configure generates: they follow from config.ml, the target, the flags and
      // the mirage version, which are all in this hash. They are left out because Nx takes a run's file list
      // when the run starts: a first build would otherwise be keyed without the files its own configure creates.
      ...anyOf('!{projectRoot}/', GENERATED),
      ...duneRootInputs(ctx, u.root),
      // The versions of the tools it runs, as the toolchain task of this run left them.
      versions.input,
      // The lockfile as lock and pull left it in this run (read from disk after they ran).
      ...(options.monorepo ? [{ dependentTasksOutputFiles: '**/*.opam.locked' }] : []),
      // What it depends on (a served web app, libraries): their changes reach this hash and nx affected.
      `^${ctx.production}`,
      opamInputs(u.packages),
    ],
    outputs: ['{projectRoot}/dist/{options.artifact}', '{projectRoot}/dist/{options.artifact}.manifest.json', `{projectRoot}/dist/${u.name}.xl*`],
    metadata: metadata(
      `Compile the unikernel with dune in its build context (${targetInfo(u.target).context}), with every other unikernel build of the run in one dune call, and copy the artifact and its manifest into dist/`,
      'dune build --help=plain',
      { target: 'spt' },
    ),
  };
}

/**
 * The files of a unikernel's directory its build reads: all of them, except for a unikernel at the workspace
 * root, whose project also owns package.json, the npm lockfile and every other file no other project claims;
 * there, what dune reads (OCaml and C sources, dune and opam files).
 */
function unikernelSources(u: UnikernelModel): string[] {
  if (u.root !== '.') return ['{projectRoot}/**/*'];
  return ['ml', 'mli', 'mll', 'mly', 'c', 'h', 'opam'].map((ext) => `{projectRoot}/**/*.${ext}`).concat('{projectRoot}/**/dune', '{projectRoot}/**/dune-project');
}

/** `run`: the artifact with the program its recorded ABI needs (continuous). */
export function runTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  const runner = targetInfo(u.target).runner;
  return {
    executor: 'nx-mirage:run',
    ...targetOptions(ctx, u),
    dependsOn: [ctx.options.buildTargetName],
    continuous: true,
    cache: false,
    metadata: metadata(
      `Run the built unikernel (${runner?.usage ?? 'no standalone runner for this target'})`,
      runner && runner.program !== 'KERNEL' ? `${runner.program} --help` : `nx run ${u.project}:${ctx.options.runTargetName} --help`,
      { memory: 64, net: { service: 'tap0' }, args: ['--hello=world'] },
    ),
  };
}

/**
 * `serve`: the development loop, continuous. It configures and builds the unikernel itself (for a target this
 * machine runs), so it depends only on what the build's own dependencies give: the toolchain, the pulled
 * sources and the projects it uses. Its watch list comes from the model: the unikernel, the local libraries
 * it reaches, the directories it embeds.
 */
export function serveTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  const { options } = ctx;
  return {
    executor: 'nx-mirage:serve',
    options: { ...identity(ctx, u), ...configureFlagsOption(u), watch: watchedDirectories(ctx.model, u) },
    dependsOn: [...toolchainDependency(ctx).dependsOn, ...(options.monorepo ? [onRoot(ctx, options.pullTargetName)] : []), `^${options.buildTargetName}`],
    continuous: true,
    cache: false,
    syncGenerators: [SYNC_GENERATOR],
    metadata: metadata(
      'Build the unikernel for a target this machine runs (unix unless its own tender is here), run it, and rebuild and restart it when its sources, local libraries, config.ml or embedded data change',
      `nx run ${u.project}:${options.serveTargetName} --help`,
      { serveTarget: 'unix', args: ['--hello=world'] },
    ),
  };
}

/** `verify`: two builds from scratch, compared; never cached (a cached pass would prove nothing). */
export function verifyTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  const { options } = ctx;
  return {
    executor: 'nx-mirage:verify',
    ...targetOptions(ctx, u, configureFlagsOption(u)),
    dependsOn: [options.configureTargetName, ...(options.monorepo ? [onRoot(ctx, options.pullTargetName)] : []), `^${options.buildTargetName}`],
    cache: false,
    syncGenerators: [SYNC_GENERATOR],
    metadata: metadata(
      'Check that the unikernel builds reproducibly: two builds from scratch in separate build directories, without dune or Nx cache, compared byte for byte',
      `nx run ${u.project}:${options.verifyTargetName} --help`,
    ),
  };
}

/** `clean`: removes this unikernel's generated files, artifacts and build objects, and nothing of the others. */
export function cleanTarget(ctx: TargetContext, u: UnikernelModel): TargetConfiguration {
  return {
    executor: 'nx-mirage:clean',
    // clean removes the files of every target, so it needs no configuration per target.
    options: identity(ctx, u),
    cache: false,
    metadata: metadata("Remove this unikernel's generated files, artifacts and build objects, leaving other unikernels' builds alone", `nx run ${u.project}:${ctx.options.cleanTargetName} --help`),
  };
}

// ---------------------------------------------------------------------------------------------------------
// An OCaml library directory

function libraryInputs(ctx: TargetContext, lib: LibraryModel) {
  return [
    '{projectRoot}/**/*',
    ...duneRootInputs(ctx, lib.root),
    `^${ctx.production}`,
    // A library is built in the cross contexts of the unikernels that use it in the same run: every compiler in use.
    toolVersions(ctx, libraryTools(ctx)).input,
    opamInputs(lib.packages),
    ...lockVersionsInput(ctx, lib.packages),
  ];
}

const libraryOptions = (ctx: TargetContext, lib: LibraryModel) => ({ ...duneRootOption(ctx), dir: lib.dir });

/**
 * `build` of a library: the directory's default alias, in the contexts of the unikernel builds of the run that
 * use it (else the host's). The unikernels' build executor, so that Nx puts it in their batch (one process).
 */
export function libraryBuildTarget(ctx: TargetContext, lib: LibraryModel): TargetConfiguration {
  const names = lib.libraries.map((l) => l.publicName ?? l.name).join(', ');
  return {
    executor: 'nx-mirage:build',
    options: libraryOptions(ctx, lib),
    dependsOn: libraryDependsOn(ctx),
    cache: true,
    inputs: libraryInputs(ctx, lib),
    metadata: metadata(
      `Build the OCaml librar${lib.libraries.length > 1 ? 'ies' : 'y'} ${names} with dune, in the batch and the contexts of the unikernels that use it in the run (else the host context)`,
      'dune build --help=plain',
      {},
      DUNE,
    ),
  };
}

/** `test` of a library directory with tests: its runtest alias. */
export function libraryTestTarget(ctx: TargetContext, lib: LibraryModel): TargetConfiguration {
  return {
    executor: 'nx-mirage:dune',
    options: { ...libraryOptions(ctx, lib), action: 'test' as const },
    dependsOn: libraryDependsOn(ctx),
    cache: true,
    inputs: libraryInputs(ctx, lib),
    metadata: metadata('Run the dune tests of this directory (runtest)', 'dune test --help=plain', {}, DUNE),
  };
}

/** `format` of a library directory, where the dune root has `.ocamlformat`: dune @fmt with promotion. */
export function libraryFormatTarget(ctx: TargetContext, lib: LibraryModel): TargetConfiguration {
  return {
    executor: 'nx-mirage:dune',
    options: { ...libraryOptions(ctx, lib), action: 'format' },
    cache: false,
    metadata: metadata('Format the OCaml sources with ocamlformat (dune @fmt, promoted)', 'dune fmt --help=plain', {}, DUNE),
  };
}
