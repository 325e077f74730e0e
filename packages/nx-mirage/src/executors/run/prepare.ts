/**
 * What `run` and `serve` start: the artifact in dist/ checked against its manifest (sha256, target), the
 * program its ABI needs with the devices, memory and arguments given, and any VM configuration written.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactFileName, inDir, manifestFileName, planRun, sha256, type ArtifactManifest, type Command, type MirageTarget, type RunRequest } from '../../domain';
import { readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { ExecutorError, type LocatedUnikernel } from '../shared';

/** Which artifact to run, and the run request's settings (devices, memory, arguments) as the options give them. */
export interface RunSettings extends Pick<RunRequest, 'memory' | 'net' | 'block' | 'args' | 'tenderArgs'> {
  target: MirageTarget;
  /** The file name in dist/; by default the target's (artifactFileName). */
  artifact?: string | undefined;
}

export interface PreparedRun {
  command: Command;
  /** The directory it runs in (dist/). */
  cwd: string;
  /** The artifact as the user sees it: DIR/dist/NAME. */
  shown: string;
}

export async function prepareRun(u: LocatedUnikernel, options: RunSettings): Promise<PreparedRun> {
  const dist = join(u.root, inDir(u.dir, 'dist'));
  const shown = (f: string) => inDir(u.dir, `dist/${f}`);
  const artifact = options.artifact ?? artifactFileName(u.name, options.target);
  const rebuild = `nx build ${u.project}${options.target ? ` -c ${options.target}` : ''} --skip-nx-cache`;
  const manifestFile = manifestFileName(artifact);
  const text = await readTextIfExists(join(dist, manifestFile));
  if (text === undefined) throw new ExecutorError(`${shown(manifestFile)} is missing: build the unikernel first (nx build ${u.project})`);
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(text) as ArtifactManifest;
    if (typeof manifest.sha256 !== 'string' || !manifest.abi || !Array.isArray(manifest.devices)) throw new Error('fields are missing');
  } catch (e) {
    throw new ExecutorError(`${shown(manifestFile)} is not a valid manifest (${(e as Error).message}); rebuild with: ${rebuild}`);
  }
  if (manifest.target !== options.target) {
    throw new ExecutorError(`${shown(artifact)} was built for ${manifest.target}, not ${options.target}; build it with: nx build ${u.project} -c ${options.target}`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dist, artifact));
  } catch {
    throw new ExecutorError(`${shown(artifact)} is missing: build the unikernel first (nx build ${u.project})`);
  }
  const actual = sha256(bytes);
  if (actual !== manifest.sha256) {
    throw new ExecutorError(
      `${shown(artifact)} does not match its manifest (sha256 ${actual.slice(0, 12)}…, the manifest says ${manifest.sha256.slice(0, 12)}…): ` +
        `it changed after the build, so it is not run. Rebuild with: ${rebuild}`,
    );
  }
  const isXen = manifest.abi.kind === 'solo5' && manifest.abi.target === 'xen';
  const xlBase = join(dist, artifact.replace(/\.xen$/, '.xl'));
  const vmConfigPath = isXen ? join(dist, `${artifact}.run.xl`) : join(dist, `${artifact}.vm.json`);
  const plan = planRun({
    kernel: join(dist, artifact),
    manifest,
    memory: options.memory,
    net: options.net,
    block: options.block,
    args: options.args,
    tenderArgs: options.tenderArgs,
    vmConfigPath,
    ...(isXen ? { xen: { template: await readTextIfExists(`${xlBase}.in`), example: await readTextIfExists(xlBase) } } : {}),
  });
  if (!plan.ok) throw new ExecutorError(plan.problems.join('\n'));
  if (plan.vmConfig) await writeFileAtomically(vmConfigPath, plan.vmConfig);
  return { command: plan.command, cwd: dist, shown: shown(artifact) };
}
