/**
 * nx-mirage's project inference and dependencies. Every `config.ml` that is a MirageOS configuration becomes
 * a project named after its unikernel; every directory with dune `library` stanzas becomes an OCaml library
 * project. One analysis of the workspace (parse results cached by file content, so a warm graph computation
 * reads and parses nothing) serves both createNodes and createDependencies.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import type {
  CreateDependencies,
  CreateDependenciesContext,
  CreateNodes,
  CreateNodesResult,
  ProjectConfiguration,
  ProjectGraphExternalNode,
  RawProjectGraphDependency,
} from '@nx/devkit';
import {
  DuneSyntaxError,
  buildDuneRootModel,
  inSkippedDirectory,
  modelPackages,
  owningProject,
  dependsStampId,
  probeAsShellCommand,
  readConfigMl,
  readDuneFile,
  readLockClosures,
  readOpamLockfile,
  switchPackagesOfLockfile,
  type DuneFileInfo,
  type DuneRootModel,
  type MirageConfigInfo,
  type ModelInputs,
} from '../domain';
import { readTextFile } from '../adapters/files';
import { packageInfo } from '../utils/package-info';
import { normalizePluginOptions, type MiragePluginOptions, type NormalizedPluginOptions } from '../options';
import { AggregateCreateNodesError, DependencyType, PluginCache, hashFiles, logger, pluginCachePath, validateDependency } from './nx-internals';
import { duneRootProject, libraryProject, unikernelProject } from './project';
import { toolchainKeyInputs, type TargetContext } from './targets';

export const CONFIG_GLOB = '**/{config.ml,dune,*.opam.locked,*.opam.locked.json}';

/** Counts file parses, so tests can prove a warm run parses nothing. */
export const parseStats = { parsed: 0 };

export const createNodes: CreateNodes<MiragePluginOptions> = [
  CONFIG_GLOB,
  async (matched, rawOptions, context) => {
    const options = normalizePluginOptions(rawOptions);
    const model = await analyze(context.workspaceRoot, matched, options);
    for (const p of model.problems) {
      const where = `${p.file}${p.line ? `:${p.line}` : ''}`;
      logger.warn(p.fatal ? `nx-mirage: ${where} is not used as a MirageOS unikernel: ${p.message}.` : `nx-mirage: ${where}: ${p.message}.`);
    }
    const ctx: TargetContext = {
      options,
      model,
      production: context.nxJsonConfiguration?.namedInputs?.['production'] ? 'production' : 'default',
      toolchainKey: toolchainKey(context.workspaceRoot, options, model),
      dependsStampCommand: binCommand(context.workspaceRoot, 'depends-stamp.js', [dependsStampId(model.duneRoot)]),
    };
    const results: Array<readonly [string, CreateNodesResult]> = [];
    const add = (file: string, project: ProjectConfiguration) => results.push([file, { projects: { [project.root]: project } }]);
    for (const u of model.unikernels) add(posix.join(u.root, 'config.ml'), unikernelProject(ctx, u));
    const ocamlformat = existsSync(join(context.workspaceRoot, model.duneRoot, '.ocamlformat'));
    for (const lib of model.libraries) add(lib.duneFile, libraryProject(ctx, lib, ocamlformat));
    if (results.length > 0) {
      // The dune root project and the opam packages come with the first file: a project needs a file that creates it.
      const [file, first] = results[0]!;
      const root = duneRootProject(ctx);
      const externalNodes = opamNodes(model);
      results[0] = [file, { projects: { ...first.projects, [root.root]: root }, ...(Object.keys(externalNodes).length ? { externalNodes } : {}) }];
    }
    if (model.graphErrors.length > 0) {
      throw new AggregateCreateNodesError(
        model.graphErrors.map((d) => [d.file, new Error(d.message)]),
        results,
      );
    }
    return results;
  },
];

/**
 * The key inputs of the cached toolchain target. The stamp check (modes "auto" and "managed") runs as
 * nx-mirage's own script, relative to the workspace root when installed below it: the same command on every machine.
 */
function toolchainKey(workspaceRoot: string, options: NormalizedPluginOptions, model: DuneRootModel) {
  return toolchainKeyInputs(options.toolchain.mode === 'path' ? undefined : binCommand(workspaceRoot, 'toolchain-stamp.js'), model);
}

/** A runtime input running one of nx-mirage's own scripts: relative to the workspace root when installed below it, so the same command on every machine. */
function binCommand(workspaceRoot: string, script: string, args: readonly string[] = []): string {
  const file = join(__dirname, '..', 'bin', script);
  const relativeScript = relative(workspaceRoot, file);
  const path = relativeScript.startsWith('..') || isAbsolute(relativeScript) ? file : relativeScript.split(sep).join('/');
  return probeAsShellCommand(['node', path, ...args]);
}

/** Nx 21 and 22 look for `createNodesV2`; Nx 23 and later for `createNodes`. */
export const createNodesV2 = createNodes;

/**
 * Static edges, each with the file that creates it: unikernel → library (local_libs, dune files in its tree),
 * library → library (dune files), unikernel → the project owning a directory a data device embeds (a web
 * app's build output), and project → `opam:NAME`. Computed from the whole (cached) model every time, never from
 * the changed files alone, so an edge does not disappear because only one side changed. The dune root project
 * is reached through task dependencies (build → pull), not through project edges: it owns no file (its root is
 * the git-ignored .nx-mirage/), and Nx cannot hash `^production` inputs over a dependency without files.
 */
export const createDependencies: CreateDependencies<MiragePluginOptions> = async (rawOptions, context) => {
  const options = normalizePluginOptions(rawOptions);
  const files = [
    ...Object.values(context.fileMap.projectFileMap).flatMap((fs) => fs.map((f) => f.file)),
    ...context.fileMap.nonProjectFiles.map((f) => f.file),
  ].filter((f) => /(^|\/)(config\.ml|dune|[^/]+\.opam\.locked(\.json)?)$/.test(f));
  const model = await analyze(context.workspaceRoot, files, options);
  const projects = Object.entries(context.projects).map(([name, p]) => ({ name: p.name ?? name, root: p.root }));
  const known = new Set(projects.map((p) => p.name));
  const deps: RawProjectGraphDependency[] = [];
  const add = (source: string, target: string, sourceFile: string) => {
    if (!known.has(source) || !(known.has(target) || context.externalNodes?.[target]) || source === target) return;
    deps.push(staticOrImplicit({ source, target, sourceFile, type: DependencyType.static }, context));
  };
  for (const e of model.edges) add(e.source, e.target, e.sourceFile);
  for (const d of model.dataDirs) {
    const owner = owningProject(d.dir, projects, d.unikernel);
    if (owner) add(d.unikernel, owner, d.sourceFile);
  }
  for (const e of model.externalPackages) add(e.source, `opam:${e.pkg}`, e.sourceFile);
  return deps;
};

/** A static edge, or (when the file lies in a nested project of its own) the same edge without a source file. */
function staticOrImplicit(dependency: RawProjectGraphDependency, context: CreateDependenciesContext): RawProjectGraphDependency {
  try {
    validateDependency(dependency, context);
    return dependency;
  } catch {
    return { source: dependency.source, target: dependency.target, type: DependencyType.implicit };
  }
}

/**
 * `opam:NAME` external nodes for every opam package a project uses, with the version the lockfiles give
 * (several joined when lockfiles disagree; "unlocked" without one), so that targets list exactly the packages
 * they use (and not every npm package). Their hash is the package name alone: the versions reach a build's key
 * through the lockfile as its lock task left it, and `nx affected` through the lockfile fields configure
 * hashes. A version read when the graph was made would change the key of the first build after a new lock,
 * although the lockfile it built with was the same.
 */
function opamNodes(model: DuneRootModel): Record<string, ProjectGraphExternalNode> {
  const nodes: Record<string, ProjectGraphExternalNode> = {};
  for (const pkg of modelPackages(model)) {
    const version = model.lockedVersions[pkg]?.join(' | ') ?? 'unlocked';
    nodes[`opam:${pkg}`] = { type: 'opam' as ProjectGraphExternalNode['type'], name: `opam:${pkg}`, data: { packageName: pkg, version, hash: `opam:${pkg}` } };
  }
  return nodes;
}

const memo = new Map<string, Promise<DuneRootModel>>();

/** The model for these files and options; memoized by file contents, so createDependencies reuses createNodes'. */
async function analyze(workspaceRoot: string, matched: readonly string[], options: NormalizedPluginOptions): Promise<DuneRootModel> {
  const files = matched.filter((f) => !inSkippedDirectory(f)).sort();
  const hashes = await hashFiles(workspaceRoot, files);
  const key = JSON.stringify([workspaceRoot, options, files, hashes]);
  let found = memo.get(key);
  if (!found) {
    found = readAll(workspaceRoot, files, hashes).then((parsed) => buildDuneRootModel(modelInputs(files, parsed), options));
    memo.clear();
    memo.set(key, found);
  }
  return found;
}

function modelInputs(files: readonly string[], parsed: readonly Parsed[]): ModelInputs {
  const inputs = { configs: [] as MirageConfigInput[], duneFiles: [] as DuneFileInput[], lockfiles: [] as LockfileInput[], lockViews: [] as LockViewInput[] };
  files.forEach((file, i) => {
    const entry = parsed[i]!;
    if (entry.kind === 'lock') inputs.lockfiles.push({ file, versions: entry.versions, switchPackages: entry.switchPackages });
    else if (entry.kind === 'view') inputs.lockViews.push({ file, closures: entry.closures });
    else if (entry.kind === 'dune') inputs.duneFiles.push(entry.info ? { file, info: entry.info } : { file, error: entry.error });
    else inputs.configs.push({ file, info: entry.info });
  });
  return inputs;
}

type MirageConfigInput = ModelInputs['configs'][number];
type DuneFileInput = ModelInputs['duneFiles'][number];
type LockfileInput = ModelInputs['lockfiles'][number];
type LockViewInput = NonNullable<ModelInputs['lockViews']>[number];

type Parsed =
  | { kind: 'config'; info: MirageConfigInfo }
  | { kind: 'lock'; versions: Record<string, string>; switchPackages: string[] }
  | { kind: 'view'; closures: Record<string, string[]> }
  | { kind: 'dune'; info: DuneFileInfo; error?: undefined }
  | { kind: 'dune'; error: string; info?: undefined };

async function readAll(workspaceRoot: string, files: string[], hashes: string[]): Promise<Parsed[]> {
  const version = packageInfo().version;
  const cache = new PluginCache<Parsed>(pluginCachePath(workspaceRoot, 'nx-mirage-files.hash'));
  try {
    return await Promise.all(
      files.map(async (file, i): Promise<Parsed> => {
        const isDune = posix.basename(file) === 'dune';
        const isLock = file.endsWith('.opam.locked');
        const isView = file.endsWith('.opam.locked.json');
        const key = `${version}:${isView ? 'view' : isLock ? 'lock' : isDune ? 'dune' : 'config'}:${hashes[i]}`;
        const hit = cache.get(key);
        if (hit) return hit;
        const read = await readTextFile(join(workspaceRoot, file));
        parseStats.parsed++;
        let result: Parsed;
        if (!read.ok) {
          // Unreadable files are not cached: the next run tries again once permissions are fixed.
          if (isLock) return { kind: 'lock', versions: {}, switchPackages: [] };
          if (isView) return { kind: 'view', closures: {} };
          return isDune
            ? { kind: 'dune', error: `it cannot be read (${read.reason})` }
            : { kind: 'config', info: { isMirage: false, packages: [], localLibs: [], dataDirs: [], problems: [{ message: `it cannot be read (${read.reason})` }] } };
        }
        if (isView) {
          result = { kind: 'view', closures: readLockClosures(read.text) };
        } else if (isLock) {
          result = { kind: 'lock', versions: readOpamLockfile(read.text), switchPackages: switchPackagesOfLockfile(read.text) };
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
