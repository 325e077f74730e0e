/**
 * The one model of an nx-mirage dune root: its unikernels (directory, target, flags, version guard, every opam
 * package they link), its OCaml library projects, the edges between them, and the mirage targets in use.
 * Built from parsed config.ml files, dune files and lockfiles, with the plugin's settings; pure. Inference
 * turns it into Nx projects and carries it in their metadata, from which executors and the sync generator
 * read it back (`modelFromProjects`); generators build it from the files of their tree.
 */
import { posix } from 'node:path';
import type { MirageConfigInfo } from './config-ml/reader';
import type { DuneFileInfo, DuneLibrary } from './dune-file';
import { analyzeWorkspace, inSkippedDirectory, isInside, type GraphEdge, type WorkspaceAnalysis } from './graph';
import { isMirageTarget, runtimePackages, type MirageTarget } from './targets';
import { unbuildableDirectory, unconfigurableDirectory } from './unikernel';

/** What the plugin options say about unikernels; NormalizedPluginOptions satisfies it. */
export interface ModelSettings {
  duneRoot: string;
  target: MirageTarget;
  configureFlags: readonly string[];
  unikernels: Readonly<Record<string, { target?: MirageTarget; configureFlags?: readonly string[] }>>;
  additionalTargets: readonly MirageTarget[];
}

export interface UnikernelModel {
  /** The Nx project: the name given to `register`. */
  project: string;
  name: string;
  /** Workspace-relative directory of config.ml (`.` for the workspace root). */
  root: string;
  /** The same directory relative to the dune root (`.` for the dune root itself). */
  dir: string;
  target: MirageTarget;
  configureFlags: string[];
  /** The first-line version guard as written, for example `mirage >= 4.9.0 & < 4.12.0`. */
  versionGuard?: string;
  /** Every opam package it links: config.ml packages, libraries of its dune files, mirage's runtime packages for its target. */
  packages: string[];
  localLibs: string[];
  dataDirs: string[];
}

export interface LibraryModel {
  project: string;
  root: string;
  /** Directory relative to the dune root. */
  dir: string;
  duneFile: string;
  libraries: DuneLibrary[];
  hasTests: boolean;
  packages: string[];
}

export interface ModelProblem {
  file: string;
  line?: number;
  message: string;
  /** The file is not used at all (a config.ml that is not inferred as a unikernel). */
  fatal: boolean;
}

export interface DuneRootModel {
  duneRoot: string;
  /** The Nx project that carries the dune root's workspace-wide targets (lock, pull, install-switch, toolchain). */
  project: string;
  projectRoot: string;
  unikernels: UnikernelModel[];
  libraries: LibraryModel[];
  /** The mirage targets in use: each unikernel's target and `additionalTargets`, sorted. */
  targets: MirageTarget[];
  /** Static edges between the dune root's projects, each with the file that creates it. */
  edges: GraphEdge[];
  /** Directories unikernels embed with data devices (workspace-relative), for edges to the projects owning them. */
  dataDirs: WorkspaceAnalysis['dataDirs'];
  /** opam packages each project uses, with the file naming each. */
  externalPackages: WorkspaceAnalysis['externalPackages'];
  /** Locked versions by package, from every lockfile of the dune root. */
  lockedVersions: Record<string, string[]>;
  /**
   * Per unikernel project, the lockfile fields whose change can change its artifact: the packages it uses,
   * their locked closure (recorded in the lockfile's JSON view when the sources were pulled) and the lockfile's
   * switch packages (the compiler, dune). `nx affected` compares these between revisions.
   */
  lockFields: Record<string, string[]>;
  problems: ModelProblem[];
  /**
   * Mistakes that fail the graph, each with the file to fix: two unikernels of one name, a key of the
   * `unikernels` option that names no unikernel of the dune root (its settings would be ignored).
   */
  graphErrors: Array<{ file: string; message: string }>;
}

export interface ModelInputs {
  configs: ReadonlyArray<{ file: string; info: MirageConfigInfo }>;
  duneFiles: ReadonlyArray<{ file: string; info?: DuneFileInfo; error?: string }>;
  lockfiles: ReadonlyArray<{ file: string; versions: Record<string, string>; switchPackages?: readonly string[] }>;
  /** The `@closures` of each lockfile's JSON view, by the view's path (`LOCKFILE.json`). */
  lockViews?: ReadonlyArray<{ file: string; closures: Record<string, string[]> }>;
}

/** The Nx project of a dune root: `@nx-mirage` (`@nx-mirage+DIR` for another dune root). No npm package, OCaml library or unikernel can have such a name. */
export function duneRootProjectName(duneRoot: string): string {
  return duneRoot === '.' ? '@nx-mirage' : `@nx-mirage+${duneRoot}`;
}

/** Where the dune root's project lives: `.nx-mirage` below the dune root, so a unikernel at the dune root keeps its own project. */
export function duneRootProjectRoot(duneRoot: string): string {
  return duneRoot === '.' ? '.nx-mirage' : `${duneRoot}/.nx-mirage`;
}

/** Names Nx accepts in `nx run NAME:target` and that mirage turns into file names unchanged. */
const PROJECT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Longest unikernel name nx-mirage infers: artifacts, opam files and manifests are named after it, within a file name's 255 bytes. */
export const MAX_UNIKERNEL_NAME = 200;

/** The target and configure flags a unikernel gets from the settings. */
export function unikernelSettings(settings: ModelSettings, name: string): { target: MirageTarget; configureFlags: string[] } {
  const own = settings.unikernels[name];
  return { target: own?.target ?? settings.target, configureFlags: [...settings.configureFlags, ...(own?.configureFlags ?? [])] };
}

/** A version guard that cannot be checked still leaves a usable unikernel; every other problem hides part of the file. */
function tolerable(message: string): boolean {
  return message.startsWith('the version guard');
}

export function relativeToDuneRoot(path: string, duneRoot: string): string {
  if (duneRoot === '.') return path === '' ? '.' : path;
  return posix.relative(duneRoot, path) || '.';
}

/** The model of the dune root `settings.duneRoot`, from the parsed files of the workspace. */
export function buildDuneRootModel(inputs: ModelInputs, settings: ModelSettings): DuneRootModel {
  const duneRoot = settings.duneRoot;
  const model: DuneRootModel = {
    duneRoot,
    project: duneRootProjectName(duneRoot),
    projectRoot: duneRootProjectRoot(duneRoot),
    unikernels: [],
    libraries: [],
    targets: [],
    edges: [],
    dataDirs: [],
    externalPackages: [],
    lockedVersions: {},
    lockFields: {},
    problems: [],
    graphErrors: [],
  };
  const owners = new Map<string, string>();
  const found: Array<{ root: string; name: string; info: MirageConfigInfo }> = [];
  /** Every name a configuration of the dune root registers, usable or not: settings for a broken one are no typo. */
  const registered = new Set<string>();
  for (const { file, info } of [...inputs.configs].filter((c) => !inSkippedDirectory(c.file)).sort((a, b) => (a.file < b.file ? -1 : 1))) {
    const problems = [...info.problems];
    if (info.name !== undefined && !PROJECT_NAME.test(info.name)) {
      problems.push({
        line: info.nameLine,
        message: `the unikernel name ${JSON.stringify(info.name)} cannot be an Nx project name; use letters, digits and _ . - (starting with a letter, digit or _)`,
      });
    } else if (info.name !== undefined && info.name.length > MAX_UNIKERNEL_NAME) {
      problems.push({
        line: info.nameLine,
        message: `the unikernel name has ${info.name.length} characters; artifacts and opam files are named after it, so it must have at most ${MAX_UNIKERNEL_NAME}`,
      });
    }
    const root = posix.dirname(file);
    if (info.isMirage && info.name !== undefined && isInside(root, duneRoot)) registered.add(info.name);
    const unconfigurable = unconfigurableDirectory(root);
    if (info.isMirage && unconfigurable) problems.push({ message: unconfigurable });
    const use = info.isMirage && info.name !== undefined && problems.every((p) => tolerable(p.message));
    for (const p of problems) model.problems.push({ file, ...(p.line ? { line: p.line } : {}), message: p.message, fatal: !use });
    if (!use) continue;
    if (!isInside(root, duneRoot)) {
      model.problems.push({ file, message: `it lies outside the dune root "${duneRoot}" (plugin option duneRoot)`, fatal: true });
      continue;
    }
    const name = info.name!;
    const claimed = owners.get(name);
    if (claimed) {
      model.graphErrors.push({
        file,
        message:
          `Two unikernels are named "${name}": ${claimed} and ${file}. Unikernel names become Nx project names and must be unique; ` +
          `rename one of them in its \`register "${name}" [...]\` call.`,
      });
      continue;
    }
    owners.set(name, file);
    found.push({ root, name, info });
  }
  for (const key of Object.keys(settings.unikernels)) {
    if (registered.has(key)) continue;
    const known = [...registered].sort();
    model.graphErrors.push({
      file: 'nx.json',
      message:
        `The nx-mirage option "unikernels" has settings for "${key}", but no config.ml of the dune root "${duneRoot}" registers a unikernel of that name ` +
        `(${known.length ? `unikernels: ${known.join(', ')}` : 'it has no unikernel'}). Fix the key in nx.json, or remove the entry.`,
    });
  }

  const duneFiles: Array<{ file: string; info: DuneFileInfo }> = [];
  for (const d of inputs.duneFiles) {
    if (inSkippedDirectory(d.file) || !isInside(posix.dirname(d.file), duneRoot)) continue;
    if (!d.info) {
      model.problems.push({ file: d.file, message: `not read as a dune file: ${d.error ?? 'unreadable'}`, fatal: false });
      continue;
    }
    const problem = unbuildableDirectory(posix.dirname(d.file));
    if (problem) {
      if (d.info.libraries.length > 0) model.problems.push({ file: d.file, message: `not used as a library project: ${problem}`, fatal: false });
      continue;
    }
    duneFiles.push({ file: d.file, info: d.info });
  }
  const lockfiles = inputs.lockfiles.filter((l) => !inSkippedDirectory(l.file) && isInside(posix.dirname(l.file), duneRoot));
  const analysis = analyzeWorkspace(found, duneFiles, lockfiles, [model.project]);
  for (const p of analysis.problems) model.problems.push({ ...p, fatal: false });
  model.edges = analysis.edges;
  model.dataDirs = analysis.dataDirs;
  model.externalPackages = analysis.externalPackages;
  model.lockedVersions = analysis.lockedVersions;

  const packagesOf = (project: string) => analysis.externalPackages.filter((e) => e.source === project).map((e) => e.pkg);
  for (const u of found) {
    const { target, configureFlags } = unikernelSettings(settings, u.name);
    model.unikernels.push({
      project: u.name,
      name: u.name,
      root: u.root,
      dir: relativeToDuneRoot(u.root, duneRoot),
      target,
      configureFlags,
      ...(u.info.versionGuard ? { versionGuard: u.info.versionGuard.raw } : {}),
      packages: [...new Set([...packagesOf(u.name), ...runtimePackages(target)])].sort(),
      localLibs: u.info.localLibs,
      dataDirs: u.info.dataDirs.map((d) => d.path),
    });
  }
  for (const lib of analysis.libraries) {
    model.libraries.push({
      project: lib.name,
      root: lib.root,
      dir: relativeToDuneRoot(lib.root, duneRoot),
      duneFile: lib.duneFile,
      libraries: lib.libraries,
      hasTests: lib.hasTests,
      packages: [...new Set(packagesOf(lib.name))].sort(),
    });
  }
  model.targets = [...new Set<MirageTarget>([...model.unikernels.map((u) => u.target), ...settings.additionalTargets])].sort();
  const switchPackages = lockfiles.flatMap((l) => l.switchPackages ?? []);
  const closures = (inputs.lockViews ?? []).filter((v) => lockfiles.some((l) => `${l.file}.json` === v.file)).map((v) => v.closures);
  for (const u of model.unikernels) {
    model.lockFields[u.project] = [...new Set([...u.packages, ...switchPackages, ...closures.flatMap((c) => c[u.name] ?? [])])].sort();
  }
  return model;
}

/** Whether a unikernel's config.ml sits at the dune root itself (mirage then writes the root `dune` file). */
export function rootHasUnikernel(model: Pick<DuneRootModel, 'unikernels'>): boolean {
  return model.unikernels.some((u) => u.dir === '.');
}

/** Every opam package the dune root's projects use, for external nodes. */
export function modelPackages(model: DuneRootModel): string[] {
  return [...new Set([...model.externalPackages.map((e) => e.pkg), ...model.unikernels.flatMap((u) => u.packages)])].sort();
}

// ---------------------------------------------------------------------------------------------------------
// The model in the project graph: each project's metadata carries its part, so executors and the sync
// generator read the same model inference built, without analysing the workspace again.

/** A unikernel's part, its empty lists left out (the graph and its source map grow with every entry). */
export interface UnikernelMetadata extends Omit<UnikernelModel, 'project' | 'root' | OptionalLists>, Partial<Pick<UnikernelModel, OptionalLists>> {
  kind: 'unikernel';
  duneRoot: string;
}

type OptionalLists = 'configureFlags' | 'localLibs' | 'dataDirs';
const OPTIONAL_LISTS: readonly OptionalLists[] = ['configureFlags', 'localLibs', 'dataDirs'];

export interface DuneRootMetadata {
  kind: 'dune-root';
  duneRoot: string;
  targets: MirageTarget[];
}

export interface LibraryMetadata {
  kind: 'library';
  duneRoot: string;
  dir: string;
}

export function unikernelMetadata(u: UnikernelModel, duneRoot: string): UnikernelMetadata {
  const { project: _p, root: _r, ...rest } = u;
  const metadata: UnikernelMetadata = { kind: 'unikernel', duneRoot, ...rest };
  for (const list of OPTIONAL_LISTS) if (metadata[list]?.length === 0) delete metadata[list];
  return metadata;
}

export function duneRootMetadata(model: DuneRootModel): DuneRootMetadata {
  return { kind: 'dune-root', duneRoot: model.duneRoot, targets: model.targets };
}

export function libraryMetadata(lib: LibraryModel, duneRoot: string): LibraryMetadata {
  return { kind: 'library', duneRoot, dir: lib.dir };
}

/** The part of the model executors and the sync generator need, as the project graph carries it. */
export interface DuneRootView {
  duneRoot: string;
  project: string;
  unikernels: UnikernelModel[];
  libraries: Array<{ project: string; root: string; dir: string }>;
  targets: MirageTarget[];
}

type ProjectLike = { root: string; name?: string; metadata?: unknown };

function mirageMetadata(p: ProjectLike): { kind?: string } | undefined {
  const m = (p.metadata as { mirage?: unknown } | undefined)?.mirage;
  return m && typeof m === 'object' ? (m as { kind?: string }) : undefined;
}

/** The dune roots of a project graph (projects keyed by name), read back from the metadata inference wrote. */
export function modelFromProjects(projects: Readonly<Record<string, ProjectLike>>): DuneRootView[] {
  const roots = new Map<string, DuneRootView>();
  const view = (duneRoot: string) => {
    let r = roots.get(duneRoot);
    if (!r) roots.set(duneRoot, (r = { duneRoot, project: duneRootProjectName(duneRoot), unikernels: [], libraries: [], targets: [] }));
    return r;
  };
  for (const [key, p] of Object.entries(projects)) {
    const m = mirageMetadata(p);
    const name = p.name ?? key;
    if (m?.kind === 'dune-root') {
      const d = m as DuneRootMetadata;
      const r = view(d.duneRoot);
      r.project = name;
      r.targets = d.targets.filter(isMirageTarget);
    } else if (m?.kind === 'unikernel') {
      const { kind: _k, duneRoot, configureFlags = [], localLibs = [], dataDirs = [], ...u } = m as UnikernelMetadata;
      if (!isMirageTarget(u.target)) continue;
      view(duneRoot).unikernels.push({ ...u, configureFlags, localLibs, dataDirs, project: name, root: p.root === '' ? '.' : p.root });
    } else if (m?.kind === 'library') {
      const l = m as LibraryMetadata;
      view(l.duneRoot).libraries.push({ project: name, root: p.root, dir: l.dir });
    }
  }
  for (const r of roots.values()) r.unikernels.sort((a, b) => (a.project < b.project ? -1 : 1));
  return [...roots.values()];
}
