/**
 * What nx-mirage's generators share: zod validation with one clear message, the plugin's registration and
 * options in nx.json, the root dune files and the .gitignore entries a unikernel needs.
 */
import { readNxJson, visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { posix } from 'node:path';
import { z } from 'zod';
import { ROOT_FILES, inSkippedDirectory, planRootFiles, readConfigMl, unbuildableDirectory, type MirageTarget, type RootFileName } from '../domain';
import { formatZodError } from '../utils/zod';
import { pluginOptionsFromNxJson } from '../plugins/workspace';
import { unikernelSettings } from '../plugins/options';

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

/** Unikernels declared by config.ml files in the tree: name and directory. */
export function unikernelsInTree(tree: Tree): Array<{ name: string; dir: string }> {
  const out: Array<{ name: string; dir: string }> = [];
  visitNotIgnoredFiles(tree, '', (file) => {
    if (posix.basename(file) !== 'config.ml' || inSkippedDirectory(file)) return;
    const info = readConfigMl(tree.read(file, 'utf-8') ?? '');
    if (info.isMirage && info.name) out.push({ name: info.name, dir: posix.dirname(file) });
  });
  return out;
}

/** The targets in use, as inference will see them once the tree is written: what the sync generator computes. */
export function targetsInTree(tree: Tree, extra: MirageTarget[] = []): MirageTarget[] {
  const options = pluginOptions(tree);
  const used = new Set<MirageTarget>([...options.additionalTargets, ...extra]);
  for (const u of unikernelsInTree(tree)) used.add(unikernelSettings(options, u.name).target);
  return [...used].sort();
}

/** A directory given by the user: relative to the workspace root, inside it, posix separators. */
export function workspaceDirectory(input: string, option: string): string {
  const normalized = posix.normalize(input.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../')) {
    throw new GeneratorError(`--${option} ${JSON.stringify(input)} is outside the workspace: give a directory relative to the workspace root, without ".."`);
  }
  const unbuildable = unbuildableDirectory(normalized);
  if (unbuildable) throw new GeneratorError(`--${option} ${JSON.stringify(input)}: ${unbuildable}`);
  return normalized === '' ? '.' : normalized;
}
