/**
 * One dune process at a time per dune root, across processes: dune 2.9.3 has no `_build` lock (two builds
 * corrupt each other) and dune 3 can hang on a second client. The lock is a directory in the temp directory,
 * keyed by the root's real path, made with mkdir (atomic), holding the owner's process id and host. A waiter
 * takes over at once from an owner that is no longer running on this host (killed, or crashed); an owner on
 * another host (a shared temp directory) keeps the lock fresh by touching it, and is taken over when it stops.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/** How often a holder touches its lock, and how old an untouched lock of another host must be to be taken over. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 20_000;
/** A lock directory without an owner file yet is being made; one older than this was left by a process that died making it. */
const UNOWNED_GRACE_MS = 2_000;

interface Owner {
  pid: number;
  host: string;
}

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
  const release = await acquire(duneRootLockPath(dir, kind), onWait);
  try {
    return await body();
  } finally {
    await release();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(lock: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(lock, 'owner.json'), 'utf8')) as Owner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder is gone: not running on this host, or (elsewhere) no longer touching it. */
async function abandoned(lock: string): Promise<boolean> {
  const info = await stat(lock).catch(() => undefined);
  if (!info) return false; // released meanwhile: the next mkdir tells
  const age = Date.now() - info.mtimeMs;
  const owner = await readOwner(lock);
  if (!owner) return age > UNOWNED_GRACE_MS;
  // On this host a dead owner is seen at once; a running pid may have been reused, so a lock nobody touched
  // for STALE_MS is abandoned too (a holder touches it every HEARTBEAT_MS).
  if (owner.host === hostname() && owner.pid !== process.pid && !alive(owner.pid)) return true;
  return age > STALE_MS;
}

/** Moves an abandoned lock aside (one of several waiters wins the rename) and removes it. */
async function breakLock(lock: string): Promise<void> {
  const aside = `${lock}.abandoned-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lock, aside);
  } catch {
    return; // another waiter broke it first
  }
  await rm(aside, { recursive: true, force: true });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function acquire(lock: string, onWait?: () => void): Promise<() => Promise<void>> {
  let waited = false;
  for (let delay = 25; ; delay = Math.min(delay * 1.5, 500)) {
    try {
      await mkdir(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await abandoned(lock)) {
        await breakLock(lock);
        continue;
      }
      if (!waited) onWait?.();
      waited = true;
      await sleep(delay);
      continue;
    }
    await writeFile(join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname() } satisfies Owner));
    const heartbeat = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), HEARTBEAT_MS);
    heartbeat.unref();
    return async () => {
      clearInterval(heartbeat);
      const owner = await readOwner(lock);
      if (owner?.pid === process.pid && owner.host === hostname()) await rm(lock, { recursive: true, force: true });
    };
  }
}
