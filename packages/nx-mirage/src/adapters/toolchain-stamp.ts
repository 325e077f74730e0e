/**
 * The toolchain stamp on disk: taken by the toolchain task after it wrote the record, and checked by the
 * runtime input of the cached toolchain target (bin/toolchain-stamp), which must stay cheap: file
 * reads and PATH lookups only, no tool is run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TOOLCHAIN_ENV, TOOLCHAIN_STAMP, TOOLCHAIN_TOOLS, renderToolchainStamp, type ToolchainStamp } from '../domain/toolchain';
import { writeFileAtomically } from './files';
import { findOnPath } from './path-lookup';

/**
 * A listed file by its content and a directory by its entries: Nx rewrites the files configure generates
 * whenever it restores them from its cache, so times and inodes of those would change in every run.
 */
async function contentSignature(path: string): Promise<string | null> {
  try {
    if ((await stat(path)).isDirectory()) return `entries ${(await readdir(path)).sort().join('/')}`;
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return null;
  }
}

/** A tool by its path, size, modification time and inode: an upgrade (opam reinstalls it) gives a new one. */
async function toolSignature(tool: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const found = await findOnPath(tool, env);
  if (!found) return null;
  const s = await stat(found).catch(() => undefined);
  return `${found} ${s ? `${s.size}:${s.mtimeMs}:${s.ino}` : 'unreadable'}`;
}

/** The stamp of `record` as things are now: `files` are the files and directories it was derived from. */
export async function observeToolchainStamp(record: string, files: readonly string[], env: NodeJS.ProcessEnv): Promise<ToolchainStamp> {
  return { record: createHash('sha256').update(record).digest('hex'), ...(await observe(files, env)) };
}

async function observe(files: readonly string[], env: NodeJS.ProcessEnv): Promise<Omit<ToolchainStamp, 'record'>> {
  const [tools, signatures] = await Promise.all([
    Promise.all(TOOLCHAIN_TOOLS.map(async (t) => [t, await toolSignature(t, env)] as const)),
    Promise.all([...new Set(files)].map(async (f) => [f, await contentSignature(f)] as const)),
  ]);
  return {
    env: Object.fromEntries(TOOLCHAIN_ENV.map((v) => [v, env[v] ?? null])),
    tools: Object.fromEntries(tools),
    files: Object.fromEntries(signatures),
  };
}

export async function writeToolchainStamp(workspaceRoot: string, stamp: ToolchainStamp): Promise<void> {
  await writeFileAtomically(join(workspaceRoot, TOOLCHAIN_STAMP), renderToolchainStamp(stamp));
}

/**
 * What the cached toolchain target hashes: the digest of the stamp while everything in it still holds (the
 * record on disk is then the one the toolchain task would write again), else a value never seen before, so
 * that the task runs. A missing or unreadable stamp counts as changed.
 */
export async function toolchainStampDigest(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const changed = () => `changed ${randomUUID()}`;
  let text: string;
  let stamp: ToolchainStamp;
  try {
    text = await readFile(join(workspaceRoot, TOOLCHAIN_STAMP), 'utf8');
    stamp = JSON.parse(text) as ToolchainStamp;
  } catch {
    return changed();
  }
  if (typeof stamp?.record !== 'string' || typeof stamp.files !== 'object' || stamp.files === null) return changed();
  const holds = renderToolchainStamp({ record: stamp.record, ...(await observe(Object.keys(stamp.files), env)) }) === text;
  return holds ? `stamp ${createHash('sha256').update(text).digest('hex')}` : changed();
}
