/**
 * What a unikernel directory holds of configure's work: the files it wrote (with their sha256) and the stamp
 * nx-mirage leaves beside them, so that configuring twice from the same inputs runs mirage once.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIGURE_STAMP, isConfigureOutput, renderConfigureStamp, type ConfigureInputs } from '../domain';
import { readTextIfExists, writeFileAtomically } from './files';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The files configure wrote in `dir` (absolute), relative to it, with their sha256. */
export async function configureOutputs(dir: string): Promise<Record<string, string>> {
  const candidates = [
    ...(await readdir(dir).catch(() => [] as string[])),
    ...(await readdir(join(dir, 'mirage')).catch(() => [] as string[])).map((f) => `mirage/${f}`),
    ...(await readdir(join(dir, 'dist')).catch(() => [] as string[])).map((f) => `dist/${f}`),
  ].filter(isConfigureOutput);
  const out: Record<string, string> = {};
  await Promise.all(
    candidates.map(async (f) => {
      const bytes = await readFile(join(dir, f)).catch(() => undefined);
      if (bytes) out[f] = sha256(bytes);
    }),
  );
  return out;
}

/** The inputs configure runs from: config.ml's content, target, flags, mirage's version, MIRAGE_EXTRA_REPOS. */
export async function configureInputs(dir: string, target: string, flags: readonly string[], mirage: string): Promise<ConfigureInputs | undefined> {
  const config = await readFile(join(dir, 'config.ml')).catch(() => undefined);
  if (!config) return undefined;
  const extraRepos = process.env['MIRAGE_EXTRA_REPOS'];
  return { config: sha256(config), target, flags, mirage, ...(extraRepos !== undefined ? { extraRepos } : {}) };
}

export function readConfigureStamp(dir: string): Promise<string | undefined> {
  return readTextIfExists(join(dir, CONFIGURE_STAMP));
}

/** Records that `dir` was configured from `inputs`, with the files configure wrote as they are now. */
export async function writeConfigureStamp(dir: string, inputs: ConfigureInputs): Promise<void> {
  await writeFileAtomically(join(dir, CONFIGURE_STAMP), renderConfigureStamp(inputs, await configureOutputs(dir)));
}
