/**
 * One dune process at a time per dune root, across processes: dune 2.9.3 has no `_build` lock (two builds
 * corrupt each other) and dune 3 can hang on a second client. The lock is a proper-lockfile directory in the
 * temp directory, keyed by the root's real path; a holder that dies leaves a stale lock that is taken over.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export function duneRootLockPath(root: string, kind = 'dune'): string {
  const key = createHash('sha256').update(realpathSync(root)).digest('hex').slice(0, 16);
  return join(tmpdir(), `nx-mirage-${kind}-${key}.lock`);
}

/** Runs `body` while holding the dune root's lock; `onWait` is called once if another process holds it. */
export function withDuneRootLock<T>(root: string, body: () => Promise<T>, onWait?: () => void): Promise<T> {
  return withDirectoryLock(root, 'dune', body, onWait);
}

/** Runs `body` while holding the lock of kind `kind` on the existing directory `dir`, across processes. */
export async function withDirectoryLock<T>(dir: string, kind: string, body: () => Promise<T>, onWait?: () => void): Promise<T> {
  const lockfilePath = duneRootLockPath(dir, kind);
  const options = { lockfilePath, realpath: false, stale: 20_000, update: 5_000 };
  if (await lockfile.check(dir, options)) onWait?.();
  const release = await lockfile.lock(dir, { ...options, retries: { forever: true, factor: 1.2, minTimeout: 50, maxTimeout: 500 } });
  try {
    return await body();
  } finally {
    await release().catch(() => undefined);
  }
}
