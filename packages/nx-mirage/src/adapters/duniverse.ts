/**
 * Hiding vendored sources from `mirage configure`. mirage builds config.exe with `dune build DIR/config.exe
 * --root .`, so dune sees every `duniverse/` of the dune root; a vendored copy of a library the installed
 * `mirage` library also uses (fmt, logs, cmdliner: every real lockfile has them) is then a "Conflict between
 * the following libraries" and configure fails. For the time of a configure, held under the dune root lock,
 * each `duniverse/` is renamed to a name dune skips (it ignores directories starting with "."), and put back
 * afterwards; one that a killed process left hidden is put back by the next run.
 */
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from './files';

export const HIDDEN_DUNIVERSE = '.duniverse.nx-mirage-hidden';

/** Moves each existing `DIR/duniverse` (DIR relative to `root`) aside; returns what puts them back. */
export async function hideDuniverses(root: string, dirs: readonly string[]): Promise<() => Promise<void>> {
  const moved: string[] = [];
  for (const dir of new Set(dirs)) {
    const from = join(root, dir, 'duniverse');
    if (!(await exists(from))) continue;
    await rm(join(root, dir, HIDDEN_DUNIVERSE), { recursive: true, force: true });
    await rename(from, join(root, dir, HIDDEN_DUNIVERSE));
    moved.push(dir);
  }
  return async () => {
    for (const dir of moved) await rename(join(root, dir, HIDDEN_DUNIVERSE), join(root, dir, 'duniverse'));
  };
}

/** Puts back what a configure that did not finish left hidden (a newer `duniverse/` wins over a hidden one). */
export async function restoreHiddenDuniverses(root: string, dirs: readonly string[]): Promise<void> {
  for (const dir of new Set(dirs)) {
    const hidden = join(root, dir, HIDDEN_DUNIVERSE);
    if (!(await exists(hidden))) continue;
    if (await exists(join(root, dir, 'duniverse'))) await rm(hidden, { recursive: true, force: true });
    else await rename(hidden, join(root, dir, 'duniverse'));
  }
}
