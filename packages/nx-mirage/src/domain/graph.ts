/**
 * One analysis of the OCaml side of a workspace, from parsed config.ml and dune files: which directories are
 * library projects, how libraries are named (private and public names), and the static edges between
 * unikernels and libraries, each with the file that creates it. Pure; the Nx surface caches its inputs by
 * file content and turns the result into projects and dependencies.
 */
import { posix } from 'node:path';
import type { MirageConfigInfo } from './config-ml/reader';
import { opamPackageOf, type DuneFileInfo, type DuneLibrary } from './dune-file';

export interface UnikernelInput {
  /** Project root (directory of config.ml), workspace-relative. */
  root: string;
  name: string;
  info: MirageConfigInfo;
}

export interface DuneFileInput {
  /** Workspace-relative path of the dune file. */
  file: string;
  info: DuneFileInfo;
}

export interface LibraryProject {
  /** Nx project name: the first library's name in the directory, unless another project has that name (see libraryProjectName). */
  name: string;
  root: string;
  duneFile: string;
  libraries: DuneLibrary[];
  hasTests: boolean;
}

export interface GraphEdge {
  source: string;
  target: string;
  sourceFile: string;
}

export interface WorkspaceAnalysis {
  libraries: LibraryProject[];
  /** Library name (private or public, with sub-library dots) to the project defining it. */
  libraryOwners: Record<string, string>;
  edges: GraphEdge[];
  /** Directories (workspace-relative) that unikernels embed with data devices, with the config.ml naming each. */
  dataDirs: Array<{ unikernel: string; dir: string; sourceFile: string }>;
  /** Libraries used by each project that no project of the workspace defines (opam packages). */
  externalLibraries: Record<string, string[]>;
  /** opam packages each project uses, with the file that names each. */
  externalPackages: Array<{ source: string; pkg: string; sourceFile: string }>;
  /** Locked versions by package, from every lockfile (several when lockfiles disagree). */
  lockedVersions: Record<string, string[]>;
  problems: Array<{ file: string; message: string }>;
}

/** Directories whose files are build products or vendored sources, never projects of the workspace. */
const SKIPPED_DIRS = new Set(['duniverse', 'dist', 'node_modules']);

/**
 * Whether a workspace-relative file lies under a build, vendor or output directory, or one dune does not see
 * (dune skips directories starting with `_` or `.`: `_build`, `_build.unikraft-*`, `_opam`, `.git`).
 */
export function inSkippedDirectory(file: string): boolean {
  return file.split('/').slice(0, -1).some((segment) => SKIPPED_DIRS.has(segment) || segment.startsWith('_') || segment.startsWith('.'));
}

/** Whether workspace-relative `path` is `root` or below it (`.` contains everything). */
export function isInside(path: string, root: string): boolean {
  return root === '.' || path === root || path.startsWith(`${root}/`);
}

export interface LockfileInput {
  file: string;
  versions: Record<string, string>;
}

/**
 * A library project's name: its first library's name, or, when a unikernel, a reserved name or an earlier
 * library project has it, that name with `-lib` (then `-lib-2`, ...): deterministic, and never a clash.
 */
function libraryProjectName(first: string, taken: ReadonlySet<string>): string {
  if (!taken.has(first)) return first;
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? `${first}-lib` : `${first}-lib-${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export function analyzeWorkspace(
  unikernels: readonly UnikernelInput[],
  duneFiles: readonly DuneFileInput[],
  lockfiles: readonly LockfileInput[] = [],
  reservedNames: readonly string[] = [],
): WorkspaceAnalysis {
  const analysis: WorkspaceAnalysis = {
    libraries: [],
    libraryOwners: {},
    edges: [],
    dataDirs: [],
    externalLibraries: {},
    externalPackages: [],
    lockedVersions: {},
    problems: [],
  };
  for (const lock of lockfiles) {
    for (const [pkg, version] of Object.entries(lock.versions)) {
      const versions = (analysis.lockedVersions[pkg] ??= []);
      if (!versions.includes(version)) versions.push(version);
    }
  }
  for (const versions of Object.values(analysis.lockedVersions)) versions.sort();
  const usesPackage = (source: string, pkg: string | undefined, sourceFile: string) => {
    if (pkg && !analysis.externalPackages.some((e) => e.source === source && e.pkg === pkg)) analysis.externalPackages.push({ source, pkg, sourceFile });
  };
  const unikernelRoots = new Set(unikernels.map((u) => u.root));
  const projectNames = new Set([...unikernels.map((u) => u.name), ...reservedNames]);
  const files = duneFiles.filter((d) => !inSkippedDirectory(d.file)).sort((a, b) => (a.file < b.file ? -1 : 1));

  for (const d of files) {
    const root = posix.dirname(d.file);
    // The dune file in a unikernel's own directory is mirage's (include dune.build): not a library project.
    if (unikernelRoots.has(root) || d.info.libraries.length === 0) continue;
    const project: LibraryProject = { name: '', root, duneFile: d.file, libraries: d.info.libraries, hasTests: d.info.hasTests };
    const taken = d.info.libraries.flatMap((lib) => [lib.name, lib.publicName]).filter((k): k is string => !!k).find((k) => analysis.libraryOwners[k]);
    if (taken) {
      const other = analysis.libraries.find((l) => l.name === analysis.libraryOwners[taken])!;
      analysis.problems.push({ file: d.file, message: `library "${taken}" is also defined in ${other.duneFile}; dune rejects two libraries with one name` });
      continue;
    }
    project.name = libraryProjectName(d.info.libraries[0]!.name, projectNames);
    projectNames.add(project.name);
    analysis.libraries.push(project);
    for (const lib of d.info.libraries) {
      for (const key of [lib.name, lib.publicName].filter((k): k is string => !!k)) analysis.libraryOwners[key] = project.name;
    }
  }

  /** The project a library reference resolves to: exact name, or the public library a sub-library belongs to. */
  const resolve = (ref: string): string | undefined => {
    if (analysis.libraryOwners[ref]) return analysis.libraryOwners[ref];
    const parts = ref.split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const owner = analysis.libraryOwners[parts.slice(0, i).join('.')];
      if (owner) return owner;
    }
    return undefined;
  };
  const edge = (source: string, refs: readonly string[], sourceFile: string) => {
    for (const ref of refs) {
      const target = resolve(ref);
      if (target === undefined) {
        const ext = (analysis.externalLibraries[source] ??= []);
        if (!ext.includes(ref)) ext.push(ref);
        usesPackage(source, opamPackageOf(ref), sourceFile);
      } else if (target !== source && !analysis.edges.some((e) => e.source === source && e.target === target && e.sourceFile === sourceFile)) {
        analysis.edges.push({ source, target, sourceFile });
      }
    }
  };

  for (const lib of analysis.libraries) {
    const info = files.find((f) => f.file === lib.duneFile)!.info;
    edge(lib.name, [...lib.libraries.flatMap((l) => l.libraries), ...info.usedByExecutables], lib.duneFile);
  }
  const libraryRoots = new Set(analysis.libraries.map((l) => l.root));
  for (const u of unikernels) {
    const config = posix.join(u.root, 'config.ml');
    edge(u.name, u.info.localLibs, config);
    // Hand-written dune files below the unikernel (not library projects of their own) are part of it.
    for (const d of files) {
      const dir = posix.dirname(d.file);
      if (dir === u.root || !isInside(dir, u.root) || libraryRoots.has(dir)) continue;
      edge(u.name, [...d.info.libraries.flatMap((l) => l.libraries), ...d.info.usedByExecutables], d.file);
    }
    for (const p of u.info.packages) {
      const ext = (analysis.externalLibraries[u.name] ??= []);
      if (!ext.includes(p.name)) ext.push(p.name);
      usesPackage(u.name, p.name, config);
    }
    for (const data of u.info.dataDirs) {
      const dir = posix.isAbsolute(data.path) ? undefined : posix.normalize(posix.join(u.root, data.path));
      if (dir && !dir.startsWith('..')) analysis.dataDirs.push({ unikernel: u.name, dir, sourceFile: config });
    }
  }
  return analysis;
}

/** The project whose root contains `path` most closely (Nx's ownership rule), other than `except`. */
export function owningProject(path: string, projects: ReadonlyArray<{ name: string; root: string }>, except?: string): string | undefined {
  let best: { name: string; root: string } | undefined;
  for (const p of projects) {
    if (p.name === except) continue;
    const root = p.root === '' ? '.' : p.root;
    if (!isInside(path, root)) continue;
    if (!best || root.length > best.root.length) best = { name: p.name, root };
  }
  return best?.name;
}
