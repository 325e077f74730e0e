/**
 * nx-mirage's project inference and dependencies. Every `config.ml` that is a MirageOS configuration becomes
 * a project named after its unikernel; every directory with dune `library` stanzas becomes an OCaml library
 * project. One analysis of the workspace (parse results cached by file content, so a warm graph computation
 * reads and parses nothing) serves both createNodes and createDependencies.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  AggregateCreateNodesError,
  DependencyType,
  logger,
  validateDependency,
  type CreateDependencies,
  type CreateNodes,
  type CreateNodesResult,
  type ProjectGraphExternalNode,
  type RawProjectGraphDependency,
} from '@nx/devkit';
import {
  DuneSyntaxError,
  analyzeWorkspace,
  inSkippedDirectory,
  isInside,
  probeAsShellCommand,
  owningProject,
  readConfigMl,
  readDuneFile,
  readOpamLockfile,
  runtimePackages,
  unbuildableDirectory,
  type ConfigProblem,
  type DuneFileInfo,
  type MirageConfigInfo,
  type WorkspaceAnalysis,
} from '../domain';
import { readTextFile } from '../adapters/files';
import { packageInfo } from '../utils/package-info';
import { PluginCache, hashFiles, pluginCachePath } from './nx-internals';
import { normalizePluginOptions, unikernelSettings, type MiragePluginOptions, type NormalizedPluginOptions } from './options';
import { buildLibraryProject, buildUnikernelProject, toolchainKeyInputs, type ToolchainKeyInputs } from './project';

export const CONFIG_GLOB = '**/{config.ml,dune,*.opam.locked}';

/** Counts file parses, so tests can prove a warm run parses nothing. */
export const parseStats = { parsed: 0 };

interface Analysis {
  workspace: WorkspaceAnalysis;
  problems: Array<{ file: string; line?: number; message: string; fatal: boolean }>;
  unikernels: Array<{ file: string; projectRoot: string; info: MirageConfigInfo & { name: string } }>;
  duplicates: Array<[string, Error]>;
}

export const createNodes: CreateNodes<MiragePluginOptions> = [
  CONFIG_GLOB,
  async (matched, rawOptions, context) => {
    const options = normalizePluginOptions(rawOptions);
    const analysis = await analyze(context.workspaceRoot, matched, options);
    for (const p of analysis.problems) {
      const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
      logger.warn(p.fatal ? `nx-mirage: ${where} is not used as a MirageOS unikernel: ${p.message}.` : `nx-mirage: ${where}: ${p.message}.`);
    }
    const production = context.nxJsonConfiguration?.namedInputs?.['production'] ? 'production' : 'default';
    const named = (project: string) => analysis.workspace.externalPackages.filter((e) => e.source === project).map((e) => e.pkg);
    // A unikernel also links mirage's runtime packages for its target, which config.ml does not name.
    const unikernelPackages = (name: string) => [...new Set([...named(name), ...runtimePackages(unikernelSettings(options, name).target)])].sort();
    const keyInputs = toolchainKey(context.workspaceRoot, options, analysis.unikernels);
    const results: Array<readonly [string, CreateNodesResult]> = analysis.unikernels.map(({ file, projectRoot, info }) => [
      file,
      { projects: { [projectRoot]: buildUnikernelProject({ projectRoot, info }, options, production, unikernelPackages(info.name), keyInputs) } },
    ]);
    const packagesOf = named;
    const ocamlformat = existsSync(join(context.workspaceRoot, options.duneRoot, '.ocamlformat'));
    for (const lib of analysis.workspace.libraries) {
      results.push([lib.duneFile, { projects: { [lib.root]: buildLibraryProject(lib, options, production, ocamlformat, packagesOf(lib.name), keyInputs) } }]);
    }
    const externalNodes = opamNodes(analysis.workspace, [...new Set(analysis.unikernels.flatMap((u) => unikernelPackages(u.info.name)))]);
    if (results.length > 0 && Object.keys(externalNodes).length > 0) {
      const [file, first] = results[0]!;
      results[0] = [file, { ...first, externalNodes }];
    }
    if (analysis.duplicates.length > 0) throw new AggregateCreateNodesError(analysis.duplicates, results);
    return results;
  },
];

/**
 * The key inputs of the cached toolchain target (modes "auto" and "managed"). The stamp check runs as
 * nx-mirage's own script, relative to the workspace root when installed below it: the same command on every machine.
 */
function toolchainKey(workspaceRoot: string, options: NormalizedPluginOptions, unikernels: Analysis['unikernels']): ToolchainKeyInputs | undefined {
  if (options.toolchain.mode === 'path') return undefined;
  const script = join(__dirname, '..', 'bin', 'toolchain-stamp.js');
  const relativeScript = relative(workspaceRoot, script);
  const path = relativeScript.startsWith('..') || isAbsolute(relativeScript) ? script : relativeScript.split(sep).join('/');
  const targets = unikernels.map((u) => ({ projectRoot: u.projectRoot, target: unikernelSettings(options, u.info.name).target }));
  return toolchainKeyInputs(probeAsShellCommand(['node', path]), targets, options.additionalTargets);
}

/** Nx 21 and 22 look for `createNodesV2`; Nx 23 and later for `createNodes`. */
export const createNodesV2 = createNodes;

/**
 * Static edges, each with the file that creates it: unikernel → library (local_libs, dune files in its tree),
 * library → library (dune files), and unikernel → the project owning a directory a data device embeds (a web
 * app's build output). Computed from the whole (cached) analysis every time, never from the changed files
 * alone, so an edge does not disappear because only one side changed.
 */
export const createDependencies: CreateDependencies<MiragePluginOptions> = async (rawOptions, context) => {
  const options = normalizePluginOptions(rawOptions);
  const files = [
    ...Object.values(context.fileMap.projectFileMap).flatMap((fs) => fs.map((f) => f.file)),
    ...context.fileMap.nonProjectFiles.map((f) => f.file),
  ].filter((f) => /(^|\/)(config\.ml|dune|[^/]+\.opam\.locked)$/.test(f));
  const { workspace } = await analyze(context.workspaceRoot, files, options);
  const projects = Object.entries(context.projects).map(([name, p]) => ({ name: p.name ?? name, root: p.root }));
  const known = new Set(projects.map((p) => p.name));
  const deps: RawProjectGraphDependency[] = [];
  const add = (source: string, target: string, sourceFile: string) => {
    if (!known.has(source) || !known.has(target) || source === target) return;
    const dependency: RawProjectGraphDependency = { source, target, sourceFile, type: DependencyType.static };
    try {
      validateDependency(dependency, context);
      deps.push(dependency);
    } catch {
      // The file lies in a nested project of its own: keep the edge, without a source file.
      deps.push({ source, target, type: DependencyType.implicit });
    }
  };
  for (const e of workspace.edges) add(e.source, e.target, e.sourceFile);
  for (const d of workspace.dataDirs) {
    const owner = owningProject(d.dir, projects, d.unikernel);
    if (owner) add(d.unikernel, owner, d.sourceFile);
  }
  for (const e of workspace.externalPackages) {
    const target = `opam:${e.pkg}`;
    if (!known.has(e.source) || !context.externalNodes?.[target]) continue;
    const dependency: RawProjectGraphDependency = { source: e.source, target, sourceFile: e.sourceFile, type: DependencyType.static };
    try {
      validateDependency(dependency, context);
      deps.push(dependency);
    } catch {
      deps.push({ source: e.source, target, type: DependencyType.implicit });
    }
  }
  return deps;
};

/**
 * `opam:NAME` external nodes for every opam package a project uses, versioned by the lockfiles (several
 * versions joined when lockfiles disagree; "unlocked" without one), so that targets can list exactly the
 * packages they use as inputs and a version bump reaches exactly those targets.
 */
function opamNodes(workspace: WorkspaceAnalysis, more: readonly string[]): Record<string, ProjectGraphExternalNode> {
  const nodes: Record<string, ProjectGraphExternalNode> = {};
  for (const pkg of [...workspace.externalPackages.map((e) => e.pkg), ...more]) {
    const version = workspace.lockedVersions[pkg]?.join(' | ') ?? 'unlocked';
    nodes[`opam:${pkg}`] = { type: 'opam' as ProjectGraphExternalNode['type'], name: `opam:${pkg}`, data: { packageName: pkg, version, hash: version } };
  }
  return nodes;
}

const memo = new Map<string, Promise<Analysis>>();

/** The analysis for these files and options; memoized by file contents, so createDependencies reuses createNodes'. */
async function analyze(workspaceRoot: string, matched: readonly string[], options: NormalizedPluginOptions): Promise<Analysis> {
  // Sorted, so that which of two same-named unikernels is reported does not depend on discovery order.
  const files = matched.filter((f) => !inSkippedDirectory(f)).sort();
  const hashes = await hashFiles(workspaceRoot, files);
  const key = JSON.stringify([workspaceRoot, options, files, hashes]);
  let found = memo.get(key);
  if (!found) {
    found = analyzeFiles(workspaceRoot, files, hashes, options);
    memo.clear();
    memo.set(key, found);
  }
  return found;
}

async function analyzeFiles(workspaceRoot: string, files: string[], hashes: string[], options: NormalizedPluginOptions): Promise<Analysis> {
  const parsed = await readAll(workspaceRoot, files, hashes);
  const analysis: Analysis = { workspace: undefined as never, problems: [], unikernels: [], duplicates: [] };
  const owners = new Map<string, string>();
  const duneFiles: Array<{ file: string; info: DuneFileInfo }> = [];
  const lockfiles: Array<{ file: string; versions: Record<string, string> }> = [];
  files.forEach((file, i) => {
    const entry = parsed[i]!;
    if (entry.kind === 'lock') {
      lockfiles.push({ file, versions: entry.versions });
      return;
    }
    if (entry.kind === 'dune') {
      if (entry.info) duneFiles.push({ file, info: entry.info });
      else analysis.problems.push({ file, message: `not read as a dune file: ${entry.error}`, fatal: false });
      return;
    }
    const info = entry.info;
    const problems = [...info.problems];
    if (info.name !== undefined && !PROJECT_NAME.test(info.name)) {
      problems.push({
        line: info.nameLine,
        message: `the unikernel name ${JSON.stringify(info.name)} cannot be an Nx project name; use letters, digits and _ . - (starting with a letter, digit or _)`,
      });
    }
    const unbuildable = unbuildableDirectory(dirname(file));
    if (info.isMirage && unbuildable) problems.push({ message: unbuildable });
    const use = info.isMirage && info.name !== undefined && problems.every(tolerable);
    for (const p of problems) analysis.problems.push({ file, line: p.line, message: p.message, fatal: !use });
    if (!use) return;
    const projectRoot = dirname(file);
    if (!isInside(projectRoot, options.duneRoot)) {
      analysis.problems.push({ file, message: `it lies outside the dune root "${options.duneRoot}" (plugin option duneRoot)`, fatal: true });
      return;
    }
    const name = info.name!;
    const claimed = owners.get(name);
    if (claimed) {
      analysis.duplicates.push([
        file,
        new Error(
          `Two unikernels are named "${name}": ${claimed} and ${file}. Unikernel names become Nx project names and must be unique; ` +
            `rename one of them in its \`register "${name}" [...]\` call.`,
        ),
      ]);
      return;
    }
    owners.set(name, file);
    analysis.unikernels.push({ file, projectRoot, info: { ...info, name } });
  });
  const buildable = duneFiles.filter((d) => {
    const problem = unbuildableDirectory(posix.dirname(d.file));
    if (problem && readDuneLibraries(d.info)) analysis.problems.push({ file: d.file, message: `not used as a library project: ${problem}`, fatal: false });
    return !problem;
  });
  analysis.workspace = analyzeWorkspace(
    analysis.unikernels.map((u) => ({ root: u.projectRoot, name: u.info.name, info: u.info })),
    buildable.filter((d) => isInside(posix.dirname(d.file), options.duneRoot)),
    lockfiles,
  );
  for (const p of analysis.workspace.problems) analysis.problems.push({ ...p, fatal: false });
  // A library project and a unikernel with one name would be two Nx projects with one name.
  for (const lib of analysis.workspace.libraries) {
    const unikernel = owners.get(lib.name);
    if (unikernel) {
      analysis.duplicates.push([lib.duneFile, new Error(`The library "${lib.name}" (${lib.duneFile}) has the name of the unikernel in ${unikernel}; Nx project names must be unique: rename one.`)]);
    }
  }
  return analysis;
}

function readDuneLibraries(info: DuneFileInfo): boolean {
  return info.libraries.length > 0;
}

/** Names Nx accepts in `nx run NAME:target` and that mirage turns into file names unchanged. */
const PROJECT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A version guard that cannot be checked still leaves a usable unikernel; every other problem hides part of the file. */
function tolerable(problem: ConfigProblem): boolean {
  return problem.message.startsWith('the version guard');
}

type Parsed = { kind: 'config'; info: MirageConfigInfo } | { kind: 'lock'; versions: Record<string, string> } | { kind: 'dune'; info: DuneFileInfo; error?: undefined } | { kind: 'dune'; error: string; info?: undefined };

async function readAll(workspaceRoot: string, files: string[], hashes: string[]): Promise<Parsed[]> {
  const version = packageInfo().version;
  const cache = new PluginCache<Parsed>(pluginCachePath(workspaceRoot, 'nx-mirage-files.hash'));
  try {
    return await Promise.all(
      files.map(async (file, i): Promise<Parsed> => {
        const isDune = posix.basename(file) === 'dune';
        const isLock = file.endsWith('.opam.locked');
        const key = `${version}:${isLock ? 'lock' : isDune ? 'dune' : 'config'}:${hashes[i]}`;
        const hit = cache.get(key);
        if (hit) return hit;
        const read = await readTextFile(join(workspaceRoot, file));
        parseStats.parsed++;
        let result: Parsed;
        if (!read.ok) {
          // Unreadable files are not cached: the next run tries again once permissions are fixed.
          if (isLock) return { kind: 'lock', versions: {} };
          return isDune
            ? { kind: 'dune', error: `it cannot be read (${read.reason})` }
            : { kind: 'config', info: { isMirage: false, packages: [], localLibs: [], dataDirs: [], problems: [{ message: `it cannot be read (${read.reason})` }] } };
        }
        if (isLock) {
          result = { kind: 'lock', versions: readOpamLockfile(read.text) };
        } else if (isDune) {
          try {
            result = { kind: 'dune', info: readDuneFile(read.text) };
          } catch (e) {
            if (!(e instanceof DuneSyntaxError)) throw e;
            result = { kind: 'dune', error: e.message };
          }
        } else {
          result = { kind: 'config', info: readConfigMl(read.text) };
        }
        cache.set(key, result);
        return result;
      }),
    );
  } finally {
    cache.writeToDisk();
  }
}
