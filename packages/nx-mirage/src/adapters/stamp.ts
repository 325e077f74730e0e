/**
 * Stamps on disk: taken by a task after it finished (the toolchain task after it wrote the record; the pull
 * task after configure, lock and pull), and checked by the runtime input of the cached target
 * (bin/toolchain-stamp, bin/depends-stamp), which must stay cheap: file reads and PATH lookups only, no tool
 * is run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TOOLCHAIN_ENV, TOOLCHAIN_STAMP, TOOLCHAIN_TOOLS, renderStamp, type Stamp } from '../domain/toolchain';
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

/** The stamp of `record` as things are now: `files` are the files and directories it was derived from, `envNames` the variables it read. */
export async function observeStamp(record: string, files: readonly string[], env: NodeJS.ProcessEnv, envNames: readonly string[]): Promise<Stamp> {
  return { record: createHash('sha256').update(record).digest('hex'), ...(await observe(files, env, envNames)) };
}

async function observe(files: readonly string[], env: NodeJS.ProcessEnv, envNames: readonly string[]): Promise<Omit<Stamp, 'record'>> {
  const [tools, signatures] = await Promise.all([
    Promise.all(TOOLCHAIN_TOOLS.map(async (t) => [t, await toolSignature(t, env)] as const)),
    Promise.all([...new Set(files)].map(async (f) => [f, await contentSignature(f)] as const)),
  ]);
  return {
    env: Object.fromEntries(envNames.map((v) => [v, env[v] ?? null])),
    tools: Object.fromEntries(tools),
    files: Object.fromEntries(signatures),
  };
}

/** Writes a stamp at `stampFile` (relative to the workspace root). */
export async function writeStamp(workspaceRoot: string, stampFile: string, stamp: Stamp): Promise<void> {
  await writeFileAtomically(join(workspaceRoot, stampFile), renderStamp(stamp));
}

/**
 * What a task cached under a stamp hashes: the digest of the stamp while everything in it still holds (what
 * the task made is then what it would make again), else a value never seen before, so that the task runs. A
 * missing or unreadable stamp counts as changed.
 */
export async function stampDigest(workspaceRoot: string, stampFile: string, envNames: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const changed = () => `changed ${randomUUID()}`;
  let text: string;
  let stamp: Stamp;
  try {
    text = await readFile(join(workspaceRoot, stampFile), 'utf8');
    stamp = JSON.parse(text) as Stamp;
  } catch {
    return changed();
  }
  if (typeof stamp?.record !== 'string' || typeof stamp.files !== 'object' || stamp.files === null) return changed();
  const holds = renderStamp({ record: stamp.record, ...(await observe(Object.keys(stamp.files), env, envNames)) }) === text;
  return holds ? `stamp ${createHash('sha256').update(text).digest('hex')}` : changed();
}

/** The toolchain stamp (TOOLCHAIN_STAMP): taken after the toolchain task wrote the record. */
export const observeToolchainStamp = (record: string, files: readonly string[], env: NodeJS.ProcessEnv) => observeStamp(record, files, env, TOOLCHAIN_ENV);
export const writeToolchainStamp = (workspaceRoot: string, stamp: Stamp) => writeStamp(workspaceRoot, TOOLCHAIN_STAMP, stamp);
export const toolchainStampDigest = (workspaceRoot: string, env: NodeJS.ProcessEnv = process.env) => stampDigest(workspaceRoot, TOOLCHAIN_STAMP, TOOLCHAIN_ENV, env);
