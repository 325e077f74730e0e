/**
 * The Nx project inferred for one unikernel: its targets with inputs, outputs, dependsOn, cache flags,
 * configurations per mirage target, and metadata. Pure: everything comes from the parsed config.ml and
 * the plugin options.
 */
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import {
  CONFIGURE_OUTPUTS,
  TOOLCHAIN_RECORD,
  VERSION_PROBES,
  WORKSPACE_LOCK_FILE,
  inDir,
  lockVersionsJsonPath,
  crossCompilerProbe,
  findlibToolchainsFor,
  probeAsShellCommand,
  allTargets,
  artifactFileName,
  targetInfo,
  type LibraryProject,
  type MirageConfigInfo,
  type MirageTarget,
} from '../domain';
import { unikernelSettings, type NormalizedPluginOptions } from './options';

export const TECHNOLOGIES = ['mirage', 'ocaml', 'dune'];

/** Tag of every unikernel project, which the shared lock depends on. */
export const UNIKERNEL_TAG = 'mirage:unikernel';

/** Keeps the root dune-project and dune-workspace in step with the targets in use (nx sync). */
export const SYNC_GENERATOR = 'nx-mirage:sync-dune-root';

/**
 * Runtime inputs: the tool versions that decide what configure and build produce, the same probes the
 * artifact manifest records. Nx runs each command once per run and hashes its output, so every cached result
 * follows the toolchain it was made with (an undefined cross toolchain prints a warning, which changes the hash too).
 */
export function toolchainInputs(target: MirageTarget, tools: 'configure' | 'build'): { runtime: string }[] {
  return tools === 'configure' ? [{ runtime: probeAsShellCommand(VERSION_PROBES.mirage) }] : buildProbes([target]);
}

/** The version probes of building `targets`: mirage, dune, the host compiler and each cross toolchain in use. */
function buildProbes(targets: readonly MirageTarget[]): { runtime: string }[] {
  const probes = [VERSION_PROBES.mirage, VERSION_PROBES.dune, VERSION_PROBES.ocaml, ...findlibToolchainsFor(targets).sort().map(crossCompilerProbe)];
  return probes.map((p) => ({ runtime: probeAsShellCommand(p) }));
}

/** Declared so that npm lockfile changes never reach a unikernel's hash (an absent list means all packages). */
const NO_NPM_PACKAGES = { externalDependencies: [] as string[] };

/** What keys the cached toolchain target in modes "auto" and "managed"; the same for every project of a graph. */
export interface ToolchainKeyInputs {
  /** Runtime inputs: the stamp check (nx-mirage's bin/toolchain-stamp), then the version probes of the tools in use. */
  runtime: { runtime: string }[];
  /** Digest of the unikernel directories and their targets: one added, removed or retargeted changes every key. */
  unikernels: string;
}

/**
 * The key inputs of the cached toolchain target, from the unikernels of the graph. The version probes are
 * those the builds hash (Nx runs each once per run), for every cross toolchain in use: the record lists them.
 */
export function toolchainKeyInputs(stampCommand: string, unikernels: ReadonlyArray<{ projectRoot: string; target: MirageTarget }>, additionalTargets: readonly MirageTarget[]): ToolchainKeyInputs {
  const set = [...unikernels.map((u) => `${u.projectRoot}\t${u.target}`).sort(), ...additionalTargets];
  return {
    runtime: [{ runtime: stampCommand }, ...buildProbes([...unikernels.map((u) => u.target), ...additionalTargets])],
    unikernels: createHash('sha256').update(set.join('\n')).digest('hex').slice(0, 16),
  };
}

/**
 * The `toolchain` target of every nx-mirage project. With a toolchain nx-mirage may manage (mode "auto" or
 * "managed"), configure, build and the library targets depend on it and hash the record it writes (key and
 * versions), read from disk after it ran. It is then cached: its key holds the digest of the stamp the last
 * run left (what the record came from: config.ml and opam files, switch state, tools on PATH, findlib
 * configuration), which is fresh whenever any of that changed, so the task runs exactly when the record may
 * change. With tools on PATH (mode "path") it only reports, and the runtime inputs above follow the tools.
 */
export function toolchainTarget(options: NormalizedPluginOptions, inputs: TargetConfiguration['inputs'] = [], key?: ToolchainKeyInputs): TargetConfiguration {
  const cached = options.toolchain.mode !== 'path' && key !== undefined;
  return {
    executor: 'nx-mirage:toolchain',
    ...(cached ? { options: { unikernels: key.unikernels } } : {}),
    cache: cached,
    // What decides the switch-scope packages. Without inputs, Nx 24's task-level affected would take the
    // default ones, dependencies' files included: a web app edit would then reach every build through
    // the toolchain record. The stamp's digest is a runtime input, which affected does not compare.
    inputs: [...inputs, ...(cached ? key.runtime : []), NO_NPM_PACKAGES],
    outputs: [`{workspaceRoot}/${TOOLCHAIN_RECORD}`],
    metadata: {
      technologies: TECHNOLOGIES,
      description:
        options.toolchain.mode === 'path'
          ? 'Show the OCaml toolchain on PATH that builds the unikernels: versions, and what is missing'
          : 'Create, update or reuse the OCaml toolchain (managed opam switch, or the tools on PATH), and show its key and versions; cached while nothing it depends on changed',
    },
  };
}

/** dependsOn and inputs that make a target run after the toolchain is ready and hash its record. */
export function toolchainDependency(options: NormalizedPluginOptions, transitive = false) {
  if (options.toolchain.mode === 'path') return { dependsOn: [] as string[], inputs: [] as Array<{ dependentTasksOutputFiles: string; transitive?: boolean }> };
  return {
    dependsOn: [options.toolchainTargetName],
    inputs: [{ dependentTasksOutputFiles: TOOLCHAIN_RECORD, ...(transitive ? { transitive: true } : {}) }],
  };
}


/**
 * The versions of the packages a project uses, from the JSON view of the lockfile: `nx affected` compares
 * exactly these fields between revisions, so a lockfile bump reaches exactly the projects using the package.
 */
export function lockVersionsInput(options: NormalizedPluginOptions, packages: readonly string[]): Array<{ json: string; fields?: string[] }> {
  if (!options.monorepo || options.lockScope !== 'workspace' || packages.length === 0) return [];
  return [{ json: `{workspaceRoot}/${lockVersionsJsonPath(inDir(options.duneRoot, WORKSPACE_LOCK_FILE))}`, fields: [...new Set(packages)].sort() }];
}

/** The opam packages a project uses, as Nx external nodes (`opam:NAME`, versioned by the lockfile): only those. */
export function opamInputs(packages: readonly string[]): { externalDependencies: string[] } {
  return { externalDependencies: [...new Set(packages)].sort().map((p) => `opam:${p}`) };
}

export interface InferredUnikernel {
  projectRoot: string;
  info: MirageConfigInfo & { name: string };
}

export function buildUnikernelProject(
  { projectRoot, info }: InferredUnikernel,
  options: NormalizedPluginOptions,
  /** The named input for dependencies' files: `production` where nx.json defines it, else `default`. */
  productionInput = 'production',
  /** The opam packages it uses (config.ml packages, libraries of dune files in its tree). */
  packages: readonly string[] = [],
  toolchainKey?: ToolchainKeyInputs,
): ProjectConfiguration {
  const name = info.name;
  const { target, configureFlags } = unikernelSettings(options, name);
  const family = targetInfo(target).family;
  const names = {
    configure: options.configureTargetName,
    lock: options.lockTargetName,
    installSwitch: options.installSwitchTargetName,
    pull: options.pullTargetName,
    depends: options.dependsTargetName,
    build: options.buildTargetName,
    run: options.runTargetName,
    clean: options.cleanTargetName,
    toolchain: options.toolchainTargetName,
  };
  const managed = toolchainDependency(options);
  const selectable = allTargets().filter((t) => t.supported || t.target === target);
  const perTarget = <T extends object>(f: (t: MirageTarget) => T) =>
    Object.fromEntries(selectable.map((t) => [t.target, f(t.target)])) as Record<string, T>;
  const duneRoot = options.duneRoot;
  const workspaceLock = options.lockScope === 'workspace';
  const identity = (t: MirageTarget) => ({ name, target: t, duneRoot });
  const withArtifact = (t: MirageTarget) => ({ ...identity(t), artifact: artifactFileName(name, t) });
  // The build's options carry the configure flags too: they shape the generated rules, so they belong in its hash.
  const buildOptions = (t: MirageTarget) => ({ ...withArtifact(t), configureFlags });
  // A configuration holds only what it changes (options are merged under it): the project graph, and the
  // source maps Nx keeps for every key, grow with every entry, for every unikernel.
  const onlyTarget = (t: MirageTarget) => ({ target: t });
  const targetAndArtifact = (t: MirageTarget) => ({ target: t, artifact: artifactFileName(name, t) });
  // With one lock for the workspace, lock and pull follow each unikernel's default target anyway.
  const depsConfigurations = workspaceLock ? {} : { configurations: perTarget(onlyTarget) };
  const metadata = (description: string, help?: string, example?: Record<string, unknown>) => ({
    technologies: TECHNOLOGIES,
    description,
    ...(help ? { help: { command: help, example: { options: example ?? {} } } } : {}),
  });

  const targets: Record<string, TargetConfiguration> = {
    [names.toolchain]: toolchainTarget(options, ['{projectRoot}/config.ml'], toolchainKey),
    [names.configure]: {
      executor: 'nx-mirage:configure',
      options: { ...identity(target), configureFlags },
      configurations: perTarget(onlyTarget),
      cache: true,
      ...(managed.dependsOn.length ? { dependsOn: managed.dependsOn } : {}),
      syncGenerators: [SYNC_GENERATOR],
      inputs: [
        '{projectRoot}/config.ml',
        ...toolchainInputs(target, 'configure'),
        ...managed.inputs,
        { env: 'MIRAGE_EXTRA_REPOS' },
        NO_NPM_PACKAGES,
      ],
      outputs: CONFIGURE_OUTPUTS.map((p) => `{projectRoot}/${p}`),
      metadata: metadata(
        'Generate the dune rules, main.ml and opam file of this unikernel (mirage configure)',
        'mirage configure --help=plain',
        { target: 'spt', configureFlags: ['--no-dhcp'] },
      ),
    },
    [names.lock]: {
      executor: 'nx-mirage:lock',
      options: { ...identity(target), scope: options.lockScope },
      ...depsConfigurations,
      // Every unikernel of the dune root, by tag: a list of names would make inference quadratic in their number.
      dependsOn: workspaceLock ? [{ projects: [`tag:${UNIKERNEL_TAG}`], target: names.configure }] : [names.configure],
      cache: false,
      outputs: [workspaceLock ? `{workspaceRoot}/${inDir(duneRoot, WORKSPACE_LOCK_FILE)}` : '{projectRoot}/mirage/*.opam.locked'],
      metadata: metadata(
        workspaceLock
          ? 'Lock all unikernels of the dune root together with opam-monorepo into mirage.opam.locked (skipped while it is newer than every opam file)'
          : 'Lock the unikernel dependencies with opam-monorepo (skipped while the lockfile is newer than the opam file)',
      ),
    },
    [names.installSwitch]: {
      executor: 'nx-mirage:install-switch',
      options: identity(target),
      ...depsConfigurations,
      dependsOn: [names.lock],
      cache: false,
      metadata: metadata('Install the switch tools of the unikernel (mirage, solo5, ocaml-solo5, ...) with opam; never cached'),
    },
    [names.pull]: workspaceLock
      ? {
          executor: 'nx-mirage:pull',
          options: { ...identity(target), scope: options.lockScope },
          dependsOn: [names.lock],
          // One duniverse/ for the whole dune root: not cached per project (every project would store and
          // restore the same tree); the executor skips the pull when duniverse/ already matches the lockfile.
          cache: false,
          // The versions of this unikernel's packages: a lockfile bump makes exactly the unikernels using the
          // bumped package affected (through this task, which their build depends on). The build's own key
          // has the whole lockfile instead, read after lock ran.
          inputs: [...lockVersionsInput(options, packages), NO_NPM_PACKAGES],
          outputs: [`{workspaceRoot}/${inDir(duneRoot, 'duniverse')}`],
          metadata: metadata('Vendor the shared lockfile into the dune root duniverse/ (opam monorepo pull), once per lockfile'),
        }
      : {
          executor: 'nx-mirage:pull',
          options: { ...identity(target), scope: options.lockScope },
          ...depsConfigurations,
          dependsOn: [names.lock],
          cache: true,
          inputs: [
            '{projectRoot}/mirage/*.opam.locked',
            // The lock task of the same run may write the lockfile; dependency outputs are hashed from disk
            // after it has run, so the key always holds the lockfile the pull used.
            { dependentTasksOutputFiles: '**/*.opam.locked' },
            NO_NPM_PACKAGES,
          ],
          outputs: ['{projectRoot}/duniverse'],
          metadata: metadata('Vendor the locked sources into duniverse/ (opam monorepo pull); cached by the lockfile'),
        },
    [names.depends]: {
      executor: 'nx:noop',
      dependsOn: [names.installSwitch, names.pull],
      cache: false,
      metadata: metadata('Lock, install switch tools and pull sources, as `make depends` does'),
    },
    [names.build]: {
      executor: 'nx-mirage:build',
      options: buildOptions(target),
      configurations: perTarget(targetAndArtifact),
      // ^build: projects this unikernel depends on (libraries, the web app it serves) build first.
      dependsOn: options.monorepo ? [names.configure, names.pull, `^${names.build}`] : [names.configure, `^${names.build}`],
      cache: true,
      syncGenerators: [SYNC_GENERATOR],
      inputs: [
        '{projectRoot}/**/*',
        '!{projectRoot}/dist/**/*',
        '!{projectRoot}/_build/**/*',
        // duniverse/ is what pull makes from the lockfile; the lockfile is hashed below, as lock left it.
        '!{projectRoot}/duniverse/**/*',
        '!{projectRoot}/mirage/*.opam.locked',
        // Files configure generates follow from config.ml, the target, the flags and the mirage version, which
        // are all in this hash. They are left out because Nx takes a run's file list when the run starts: a
        // first build would otherwise be keyed without the files its own configure task creates.
        ...CONFIGURE_OUTPUTS.map((p) => `!{projectRoot}/${p}`),
        `{workspaceRoot}/${inDir(duneRoot, 'dune-project')}`,
        `{workspaceRoot}/${inDir(duneRoot, 'dune-workspace')}`,
        ...toolchainInputs(target, 'build'),
        // The toolchain record, as the toolchain task of this run wrote it (through configure).
        ...toolchainDependency(options, true).inputs,
        // The lockfile as the lock task of this run left it (read from disk after it ran; a lockfile that lock
        // writes is not in the file list Nx takes when the run starts).
        ...(options.monorepo ? [{ dependentTasksOutputFiles: '**/*.opam.locked', transitive: true }] : []),
        // What it depends on (a served web app, libraries): their changes reach this hash and nx affected.
        `^${productionInput}`,
        opamInputs(packages),
      ],
      outputs: [
        '{projectRoot}/dist/{options.artifact}',
        '{projectRoot}/dist/{options.artifact}.manifest.json',
        `{projectRoot}/dist/${name}.xl*`,
      ],
      metadata: metadata(
        'Compile the unikernel with dune in its build context and promote the artifact into dist/',
        'dune build --help=plain',
        { target: 'hvt' },
      ),
    },
    [names.run]: {
      executor: 'nx-mirage:run',
      options: withArtifact(target),
      configurations: perTarget(targetAndArtifact),
      dependsOn: [names.build],
      continuous: true,
      cache: false,
      metadata: metadata(`Run the built unikernel (${targetInfo(target).runner?.usage ?? 'no standalone runner for this target'})`),
    },
    [names.clean]: {
      executor: 'nx-mirage:clean',
      // clean removes the files of every target, so it needs no configuration per target.
      options: identity(target),
      cache: false,
      metadata: metadata("Remove this unikernel's generated files, artifacts and build objects, leaving other unikernels' builds alone"),
    },
  };

  return {
    name,
    root: projectRoot,
    projectType: 'application',
    tags: ['mirage', 'ocaml', UNIKERNEL_TAG, `mirage:${family}`, `mirage:target:${target}`],
    targets,
    metadata: {
      technologies: TECHNOLOGIES,
      description: `MirageOS unikernel "${name}" (${target})`,
      targetGroups: { MirageOS: Object.values(names) },
      mirage: {
        name,
        target,
        ...(info.versionGuard ? { versionGuard: info.versionGuard.raw } : {}),
        packages: info.packages.map((p) => p.name),
        localLibs: info.localLibs,
        dataDirs: info.dataDirs.map((d) => d.path),
      },
    },
  };
}

/** An OCaml library directory as an Nx project: build, test (when it has tests) and format (with ocamlformat). */
export function buildLibraryProject(
  lib: LibraryProject,
  options: NormalizedPluginOptions,
  productionInput: string,
  hasOcamlformat: boolean,
  packages: readonly string[] = [],
  toolchainKey?: ToolchainKeyInputs,
): ProjectConfiguration {
  const duneRoot = options.duneRoot;
  const dir = duneRoot === '.' ? lib.root : posix.relative(duneRoot, lib.root);
  const common = { duneRoot, dir };
  const sources = ['{projectRoot}/**/*', `{workspaceRoot}/${inDir(duneRoot, 'dune-project')}`, `{workspaceRoot}/${inDir(duneRoot, 'dune-workspace')}`];
  const managed = toolchainDependency(options);
  const tools = [{ runtime: probeAsShellCommand(VERSION_PROBES.dune) }, { runtime: probeAsShellCommand(VERSION_PROBES.ocaml) }, ...managed.inputs];
  const targets: Record<string, TargetConfiguration> = {
    [options.toolchainTargetName]: toolchainTarget(options, [], toolchainKey),
    [options.buildTargetName]: {
      executor: 'nx-mirage:dune',
      options: { ...common, action: 'build' },
      dependsOn: [`^${options.buildTargetName}`, ...managed.dependsOn],
      cache: true,
      inputs: [...sources, `^${productionInput}`, ...tools, opamInputs(packages), ...lockVersionsInput(options, packages)],
      metadata: {
        technologies: ['ocaml', 'dune'],
        description: `Build the OCaml librar${lib.libraries.length > 1 ? 'ies' : 'y'} ${lib.libraries.map((l) => l.publicName ?? l.name).join(', ')} with dune (host context)`,
        help: { command: 'dune build --help=plain', example: { options: {} } },
      },
    },
  };
  if (lib.hasTests) {
    targets['test'] = {
      executor: 'nx-mirage:dune',
      options: { ...common, action: 'test' },
      dependsOn: [`^${options.buildTargetName}`, ...managed.dependsOn],
      cache: true,
      inputs: [...sources, `^${productionInput}`, ...tools, opamInputs(packages), ...lockVersionsInput(options, packages)],
      metadata: { technologies: ['ocaml', 'dune'], description: 'Run the dune tests of this directory (runtest)' },
    };
  }
  if (hasOcamlformat) {
    targets['format'] = {
      executor: 'nx-mirage:dune',
      options: { ...common, action: 'format' },
      cache: false,
      metadata: { technologies: ['ocaml', 'dune'], description: 'Format the OCaml sources with ocamlformat (dune @fmt, promoted)' },
    };
  }
  return {
    name: lib.name,
    root: lib.root,
    projectType: 'library',
    tags: ['ocaml', 'dune'],
    targets,
    metadata: {
      technologies: ['ocaml', 'dune'],
      description: `OCaml library ${lib.libraries.map((l) => l.publicName ?? l.name).join(', ')}`,
      ocaml: { libraries: lib.libraries.map((l) => ({ name: l.name, ...(l.publicName ? { publicName: l.publicName } : {}) })) },
    },
  };
}
