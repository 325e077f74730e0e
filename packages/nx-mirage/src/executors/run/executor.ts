import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inDir, manifestFileName, planRun, sha256, type ArtifactManifest } from '../../domain';
import { readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { runForwardingSignals } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { schema as runSchema, type RunOptions } from './schema';

/**
 * Runs dist/NAME[.ext] with the program its manifest's ABI calls for, after checking that the artifact is the
 * one the manifest describes (sha256) and that every device it declares is given. Ctrl-C and SIGTERM reach
 * the program; the task succeeds when it exits 0.
 */
export default async function runExecutor(raw: RunOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(runSchema, raw, 'run');
    const u = unikernelOf(context, options);
    const dist = join(u.root, inDir(u.dir, 'dist'));
    const shown = (f: string) => inDir(u.dir, `dist/${f}`);
    const rebuild = `nx build ${u.project}${options.target ? ` -c ${options.target}` : ''} --skip-nx-cache`;
    const manifestFile = manifestFileName(options.artifact);
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
      throw new ExecutorError(`${shown(options.artifact)} was built for ${manifest.target}, not ${options.target}; build it with: nx build ${u.project} -c ${options.target}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dist, options.artifact));
    } catch {
      throw new ExecutorError(`${shown(options.artifact)} is missing: build the unikernel first (nx build ${u.project})`);
    }
    const actual = sha256(bytes);
    if (actual !== manifest.sha256) {
      throw new ExecutorError(
        `${shown(options.artifact)} does not match its manifest (sha256 ${actual.slice(0, 12)}…, the manifest says ${manifest.sha256.slice(0, 12)}…): ` +
          `it changed after the build, so it is not run. Rebuild with: ${rebuild}`,
      );
    }
    const isXen = manifest.abi.kind === 'solo5' && manifest.abi.target === 'xen';
    const xlBase = join(dist, options.artifact.replace(/\.xen$/, '.xl'));
    const vmConfigPath = isXen ? join(dist, `${options.artifact}.run.xl`) : join(dist, `${options.artifact}.vm.json`);
    const plan = planRun({
      kernel: join(dist, options.artifact),
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
    const code = await runForwardingSignals(plan.command, { cwd: dist, purpose: `to run ${shown(options.artifact)}` });
    if (code !== 0) logger.error(`${plan.command.file} exited with code ${code}`);
    return code === 0;
  }, context);
}
