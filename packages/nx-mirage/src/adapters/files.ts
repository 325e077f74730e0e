import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { temporaryName } from '../domain/temporary';

export type ReadResult = { ok: true; text: string } | { ok: false; reason: string };

/** Reads a text file; an unreadable file is a reason, never a throw. */
export async function readTextFile(path: string): Promise<ReadResult> {
  try {
    return { ok: true, text: await readFile(path, 'utf8') };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, reason: err.code === 'EACCES' ? 'permission denied' : (err.message ?? String(e)) };
  }
}

/** Modification time in ms, or undefined when the file does not exist. */
export async function modifiedTime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A write whose result, read back, is not what was written (a full disk can cut a write short without an error). */
export class ShortWriteError extends Error {
  override name = 'ShortWriteError';
  readonly code = 'ESHORTWRITE';
}

/** The file operations a verified write makes; a test may cut them short. */
export interface WriteIo {
  write(path: string, bytes: Uint8Array, mode: number): Promise<void>;
}

const nodeIo: WriteIo = {
  async write(path, bytes, mode) {
    const handle = await open(path, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/**
 * Writes `bytes` to `dst` atomically and verified: into a new temporary file beside it, which is read back and
 * compared with them byte for byte before it is renamed over `dst`. A reader, an interrupted run or a full disk
 * leaves the previous file or the new one, never a cut one; a link at `dst` is replaced, never written
 * through. On failure the temporary file is removed and `dst` is as it was.
 */
export async function writeFileVerified(dst: string, bytes: Uint8Array, mode = 0o644, io: WriteIo = nodeIo): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  const tmp = join(dirname(dst), temporaryName(basename(dst), randomBytes(6).toString('hex')));
  try {
    await io.write(tmp, bytes, mode);
    const written = await readFile(tmp);
    if (!written.equals(bytes)) {
      throw new ShortWriteError(`only ${written.length} of ${bytes.length} bytes reached the disk (full?)`);
    }
    await rename(tmp, dst);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Copies `src` over `dst` atomically and verified (see writeFileVerified), keeping its mode; returns the bytes. */
export async function copyFileAtomic(src: string, dst: string, io?: WriteIo): Promise<Buffer> {
  const bytes = await readFile(src);
  const mode = (await stat(src)).mode & 0o777;
  await writeFileVerified(dst, bytes, mode, io);
  return bytes;
}

export async function writeFileAtomically(dst: string, content: string): Promise<void> {
  await writeFileVerified(dst, Buffer.from(content, 'utf8'));
}

/** Makes `dir` hold exactly `files` (name → content): each written atomically, any other entry removed. */
export async function writeDirectoryFiles(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(files).map(([name, content]) => writeFileAtomically(join(dir, name), content)));
  const stale = (await readdir(dir)).filter((name) => !Object.hasOwn(files, name));
  await Promise.all(stale.map((name) => rm(join(dir, name), { recursive: true, force: true })));
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  const r = await readTextFile(path);
  return r.ok ? r.text : undefined;
}

/**
 * Where `path` really is when that is outside `workspaceRoot`, following links (the nearest part of it that
 * exists decides); undefined when it is inside. What nx-mirage writes or removes must not leave the workspace
 * through a link.
 */
export async function outsideOf(workspaceRoot: string, path: string): Promise<string | undefined> {
  const rootReal = await realpath(workspaceRoot);
  let probe = resolve(path);
  const rest: string[] = [];
  for (;;) {
    const real = await realpath(probe).catch(() => undefined);
    if (real !== undefined) {
      const full = join(real, ...rest);
      const rel = relative(rootReal, full);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? undefined : full;
    }
    const parent = dirname(probe);
    if (parent === probe) return probe;
    rest.unshift(basename(probe));
    probe = parent;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await modifiedTime(path)) !== undefined;
}
