/**
 * What nx-mirage's generators share: zod validation with one clear message, the plugin's registration and
 * options in nx.json, the root dune files and the .gitignore entries a unikernel needs.
 */
import { readNxJson, visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { posix } from 'node:path';
import { z } from 'zod';
import {
  DuneSyntaxError,
  ROOT_FILES,
  buildDuneRootModel,
  inSkippedDirectory,
  lockVersionsJson,
  lockVersionsJsonPath,
  planRootFiles,
  readConfigMl,
  readDuneFile,
  readLockClosures,
  readOpamLockfile,
  unbuildableDirectory,
  unconfigurableDirectory,
  type DuneRootModel,
  type ModelInputs,
  type MirageTarget,
  type RootFileName,
} from '../domain';
import { formatZodError } from '../utils/zod';
import { pluginOptionsFromNxJson } from '../options';

export class GeneratorError extends Error {
  override name = 'GeneratorError';
}

export function parseGeneratorOptions<S extends z.ZodType>(schema: S, options: unknown, generator: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new GeneratorError(`Invalid options for nx g nx-mirage:${generator}:\n${formatZodError(parsed.error)}`);
}

export function pluginOptions(tree: Tree) {
  return pluginOptionsFromNxJson(readNxJson(tree) ?? undefined);
}

/**
 * Writes the root dune files that are missing or nx-mirage's, for the given targets (only the missing ones
 * with `onlyMissing`); files the user wrote stay, and what is wrong with them is returned as problems.
 */
export function writeRootFiles(
  tree: Tree,
  duneRoot: string,
  targets: MirageTarget[],
  { onlyMissing = false, rootIsUnikernel = false } = {},
): { written: string[]; problems: string[] } {
  const path = (f: RootFileName) => posix.join(duneRoot, f);
  const current = Object.fromEntries(ROOT_FILES.map((f) => [f, tree.exists(path(f)) ? (tree.read(path(f), 'utf-8') ?? undefined) : undefined]));
  const plan = planRootFiles(current, targets, rootIsUnikernel);
  const written: string[] = [];
  for (const [name, content] of Object.entries(plan.writes) as Array<[RootFileName, string]>) {
    if (onlyMissing && current[name] !== undefined) continue;
    tree.write(path(name), content);
    written.push(path(name));
  }
  return { written, problems: plan.problems };
}

/**
 * Brings a dune root in step with its targets: nx-mirage's root files and the JSON view of every lockfile.
 * Returns what was out of step (`outOfSync`, empty when nothing was written), and what is wrong with files the
 * user owns (`problems`: nx-mirage cannot fix them, and builds needing them would fail).
 */
export function syncDuneRoot(tree: Tree, duneRoot: string, targets: MirageTarget[], rootIsUnikernel: boolean): { outOfSync: string[]; problems: string[] } {
  const { written, problems } = writeRootFiles(tree, duneRoot, targets, { rootIsUnikernel });
  // The JSON view of each lockfile, which inputs select packages from (also written by the lock target).
  const views: string[] = [];
  visitNotIgnoredFiles(tree, duneRoot === '.' ? '' : duneRoot, (file) => {
    if (!file.endsWith('.opam.locked') || inSkippedDirectory(file)) return;
    const target = lockVersionsJsonPath(file);
    const current = tree.exists(target) ? (tree.read(target, 'utf-8') ?? undefined) : undefined;
    const view = lockVersionsJson(readOpamLockfile(tree.read(file, 'utf-8') ?? ''), readLockClosures(current ?? ''));
    if (current !== view) {
      tree.write(target, view);
      views.push(target);
    }
  });
  return {
    outOfSync: [
      ...(written.length ? [`The dune root files ${written.join(', ')} do not match the mirage targets in use.`] : []),
      ...(views.length ? [`The package versions of ${views.join(', ')} do not match their lockfiles.`] : []),
    ],
    problems,
  };
}

/** Appends the lines of `entries` that `.gitignore` at `path` lacks, under a comment; returns whether it changed. */
export function addGitignoreEntries(tree: Tree, path: string, comment: string, entries: string[]): boolean {
  const current = tree.exists(path) ? (tree.read(path, 'utf-8') ?? '') : '';
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const missing = entries.filter((e) => !have.has(e));
  if (missing.length === 0) return false;
  const prefix = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  tree.write(path, `${prefix}${prefix ? '\n' : ''}# ${comment}\n${missing.join('\n')}\n`);
  return true;
}

/** What mirage configure writes into a unikernel directory, which is regenerated and never committed. */
export const UNIKERNEL_GITIGNORE = ['/dune', '/dune.build', '/dune.config', '/dist/', '/duniverse/', '/mirage/*', '!/mirage/*.opam.locked'];

/**
 * The model of the dune root as inference will see it once the tree is written: the same analysis, over the
 * config.ml files, dune files and lockfiles of the tree (which may hold this generator's changes).
 */
export function modelOfTree(tree: Tree): DuneRootModel {
  const inputs: { configs: ModelInputs['configs'][number][]; duneFiles: ModelInputs['duneFiles'][number][]; lockfiles: ModelInputs['lockfiles'][number][] } = {
    configs: [],
    duneFiles: [],
    lockfiles: [],
  };
  visitNotIgnoredFiles(tree, '', (file) => {
    if (inSkippedDirectory(file)) return;
    const base = posix.basename(file);
    if (base === 'config.ml') inputs.configs.push({ file, info: readConfigMl(tree.read(file, 'utf-8') ?? '') });
    else if (base === 'dune') {
      try {
        inputs.duneFiles.push({ file, info: readDuneFile(tree.read(file, 'utf-8') ?? '') });
      } catch (e) {
        if (!(e instanceof DuneSyntaxError)) throw e;
        inputs.duneFiles.push({ file, error: e.message });
      }
    } else if (base.endsWith('.opam.locked')) inputs.lockfiles.push({ file, versions: readOpamLockfile(tree.read(file, 'utf-8') ?? '') });
  });
  return buildDuneRootModel(inputs, pluginOptions(tree));
}

/** A directory given by the user: relative to the workspace root, inside it, posix separators. */
export function workspaceDirectory(input: string, option: string, forUnikernel = false): string {
  const normalized = posix.normalize(input.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../')) {
    throw new GeneratorError(`--${option} ${JSON.stringify(input)} is outside the workspace: give a directory relative to the workspace root, without ".."`);
  }
  const unbuildable = (forUnikernel ? unconfigurableDirectory : unbuildableDirectory)(normalized);
  if (unbuildable) throw new GeneratorError(`--${option} ${JSON.stringify(input)}: ${unbuildable}`);
  return normalized === '' ? '.' : normalized;
}
