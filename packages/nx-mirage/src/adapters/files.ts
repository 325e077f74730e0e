import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

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

/**
 * Copies `src` over `dst` atomically: the bytes go to a temporary file beside `dst`, which is renamed over it,
 * so a reader (or an interrupted build) sees the previous file or the new one, never a truncated one.
 */
export async function copyFileAtomic(src: string, dst: string): Promise<Buffer> {
  const bytes = await readFile(src);
  const mode = (await stat(src)).mode & 0o777;
  await mkdir(dirname(dst), { recursive: true });
  await writeFileAtomic(dst, bytes, { mode });
  return bytes;
}

export async function writeFileAtomically(dst: string, content: string): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  await writeFileAtomic(dst, content);
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  const r = await readTextFile(path);
  return r.ok ? r.text : undefined;
}

export async function exists(path: string): Promise<boolean> {
  return (await modifiedTime(path)) !== undefined;
}
