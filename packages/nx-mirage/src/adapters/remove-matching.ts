/**
 * Removing generated files by glob, for clean. Its own module so that only the clean executor loads
 * fast-glob (some 80 modules), not every task process.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import fg from 'fast-glob';
import { modifiedTime, outsideOf } from './files';

export interface Removal {
  /** What existed and was removed, relative to the root. */
  removed: string[];
  /** What was left because it lies outside the workspace through a link. */
  outside: string[];
}

/**
 * Removes the files matching `globs` inside `dir`, the files (not directories) matching `fileGlobs` and the
 * plain `paths`, all relative to `root`. The directory name is escaped, so brackets or stars in it are never
 * read as glob syntax. Links are not followed, and nothing whose directory leads outside `workspaceRoot`
 * through a link is removed (a link itself is removed, never what it points at).
 */
export async function removeMatching(
  workspaceRoot: string,
  root: string,
  dir: string,
  globs: readonly string[],
  fileGlobs: readonly string[],
  paths: readonly string[],
): Promise<Removal> {
  const base = dir === '.' ? '' : `${fg.escapePath(dir)}/`;
  const options = { cwd: root, dot: true, unique: true, followSymbolicLinks: false };
  const matches = [
    ...(await fg(globs.map((g) => base + g), { ...options, onlyFiles: false })),
    ...(fileGlobs.length ? await fg([...fileGlobs], { ...options, onlyFiles: true }) : []),
  ];
  const existing = (await Promise.all(paths.map(async (p) => ((await modifiedTime(join(root, p))) === undefined ? undefined : p)))).filter(
    (p): p is string => p !== undefined,
  );
  const result: Removal = { removed: [], outside: [] };
  for (const m of [...new Set([...matches, ...existing])]) {
    if (await outsideOf(workspaceRoot, dirname(join(root, m)))) result.outside.push(m);
    else result.removed.push(m);
  }
  await Promise.all(result.removed.map((m) => rm(join(root, m), { recursive: true, force: true })));
  return result;
}
