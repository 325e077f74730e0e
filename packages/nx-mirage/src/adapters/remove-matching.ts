/**
 * Removing generated files by glob, for clean. Its own module so that only the clean executor loads
 * fast-glob (some 80 modules), not every task process.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import fg from 'fast-glob';
import { modifiedTime } from './files';

/**
 * Removes the files matching `globs` inside `dir`, the files (not directories) matching `fileGlobs` and the
 * plain `paths`, all relative to `root`. The directory name is escaped, so brackets or stars in it are never
 * read as glob syntax. Returns what existed and was removed.
 */
export async function removeMatching(root: string, dir: string, globs: readonly string[], fileGlobs: readonly string[], paths: readonly string[]): Promise<string[]> {
  const base = dir === '.' ? '' : `${fg.escapePath(dir)}/`;
  const matches = [
    ...(await fg(globs.map((g) => base + g), { cwd: root, onlyFiles: false, dot: true, unique: true })),
    ...(fileGlobs.length ? await fg([...fileGlobs], { cwd: root, onlyFiles: true, dot: true, unique: true }) : []),
  ];
  const existing = (await Promise.all(paths.map(async (p) => ((await modifiedTime(join(root, p))) === undefined ? undefined : p)))).filter(
    (p): p is string => p !== undefined,
  );
  const all = [...new Set([...matches, ...existing])];
  await Promise.all(all.map((m) => rm(join(root, m), { recursive: true, force: true })));
  return all;
}
