/**
 * Runs `mirage configure` for unikernels, one after the other under the dune root lock (mirage builds
 * config.exe in the shared _build and writes root files), after nx-mirage's root files are in place. A
 * unikernel configured from the same config.ml, target, flags and mirage version, whose generated files are
 * as configure left them, is not configured again: the lock task and the configure tasks of one run may both
 * ask for it.
 */
import type { ExecutorContext } from '@nx/devkit';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { logger } from '../log';
import { VERSION_PROBES, configureCommand, configureStampHolds, excludeNodeModules, inDir, mirageMayOverwrite, withConfigMerlin, type ConfigureInputs } from '../../domain';
import { exists, readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { configureInputs, configureOutputs, readConfigureStamp, writeConfigureStamp } from '../../adapters/configure-state';
import { hideDuniverses } from '../../adapters/duniverse';
import { duneRootView, duniverseDirs } from '../model';
import { ToolError, runCommand } from '../../adapters/process';
import { probeVersion } from '../../adapters/toolchain';
import { byDuneRoot, prepareDuneRoot, underDuneRootLock } from '../dune-root';
import type { LocatedUnikernel } from '../shared';

export interface ConfigureRequest {
  id: string;
  unikernel: LocatedUnikernel;
  duneRoot: string;
  flags: string[];
}

export interface ConfigureOutcome {
  success: boolean;
  /** What the user should see: mirage's output, or why nothing ran. */
  output: string;
  /** `fresh`: already configured from these inputs, mirage did not run. */
  status: 'fresh' | 'configured' | 'failed';
}

/** Configures the requests, each dune root under its lock. */
export async function configureUnikernels(requests: ConfigureRequest[], context: ExecutorContext, capture: boolean): Promise<Map<string, ConfigureOutcome>> {
  const outcomes = new Map<string, ConfigureOutcome>();
  for (const { duneRoot, root, group } of byDuneRoot(requests, (r) => r.unikernel)) {
    await underDuneRootLock(root, duneRoot, async () => {
      try {
        await prepareDuneRoot(context, duneRoot);
      } catch (e) {
        for (const r of group) outcomes.set(r.id, { success: false, output: `${(e as Error).message}\n`, status: 'failed' });
        logger.error((e as Error).message);
        return;
      }
      const duniverses = duniverseDirs(duneRootView(context, duneRoot));
      for (const [id, outcome] of await configureInLockedRoot(root, group, capture, duniverses)) outcomes.set(id, outcome);
    });
  }
  return outcomes;
}

/**
 * Configures the requests of one dune root whose lock the caller holds and whose root files are in place,
 * with every `duniverse/` of the root (`duniverses`) hidden from mirage's build of config.exe. Errors of one
 * unikernel (mirage's message, a missing mirage) are its outcome; the others still configure.
 */
export async function configureInLockedRoot(
  root: string,
  requests: readonly ConfigureRequest[],
  capture: boolean,
  duniverses: readonly string[],
  { ignoreDist = false }: { ignoreDist?: boolean } = {},
): Promise<Map<string, ConfigureOutcome>> {
  const version = await probeVersion(VERSION_PROBES.mirage, root);
  const outcomes = new Map<string, ConfigureOutcome>();
  const stale: Array<{ r: ConfigureRequest; inputs: ConfigureInputs | undefined }> = [];
  for (const r of requests) {
    const u = r.unikernel;
    const dir = join(root, u.dir);
    const inputs = version ? await configureInputs(dir, u.target, r.flags, version) : undefined;
    if (inputs && configureStampHolds(await readConfigureStamp(dir), inputs, await configureOutputs(dir), ignoreDist)) {
      const message = `${inDir(u.dir, 'config.ml')} is configured for ${u.target} from this very config.ml and flags; mirage configure skipped.`;
      if (capture) logger.info(message);
      outcomes.set(r.id, { success: true, output: `${message}\n`, status: 'fresh' });
    } else {
      stale.push({ r, inputs });
    }
  }
  if (stale.length === 0) return outcomes;
  // mirage writes a root Makefile where there is none; nx-mirage runs what it would, and leaves no stray file.
  const makefile = join(root, 'Makefile');
  const hadMakefile = await exists(makefile);
  const restore = await hideDuniverses(root, duniverses);
  try {
    for (const { r, inputs } of stale) {
      const u = r.unikernel;
      try {
        const result = await runCommand(configureCommand(u, r.flags), { cwd: root, purpose: `to configure ${u.dir}`, capture: capture ? 'tee' : false });
        const success = result.exitCode === 0;
        if (success && u.dir === '.') await keepDuneOutOfNodeModules(root);
        if (success) await addConfigMerlin(join(root, u.dir));
        if (success && inputs) await writeConfigureStamp(join(root, u.dir), inputs);
        outcomes.set(r.id, { success, output: result.all, status: success ? 'configured' : 'failed' });
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        logger.error(e.message);
        outcomes.set(r.id, { success: false, output: `${e.message}\n`, status: 'failed' });
      }
    }
  } finally {
    await restore();
    const written = hadMakefile ? undefined : await readTextIfExists(makefile);
    if (written !== undefined && mirageMayOverwrite('Makefile', written)) await rm(makefile, { force: true });
  }
  return outcomes;
}

/** Editors see config.ml beside the unikernel: nx-mirage's stanzas in the unikernel's dune file (see domain/merlin.ts). */
async function addConfigMerlin(dir: string): Promise<void> {
  const path = join(dir, 'dune');
  const extended = withConfigMerlin((await readTextIfExists(path)) ?? '', (await readTextIfExists(join(dir, 'dune.build'))) ?? '');
  if (extended !== undefined) await writeFileAtomically(path, extended);
}

/** A unikernel at the dune root: mirage's root `dune` file replaces nx-mirage's, which kept dune out of node_modules. */
async function keepDuneOutOfNodeModules(root: string): Promise<void> {
  const path = join(root, 'dune');
  const extended = excludeNodeModules((await readTextIfExists(path)) ?? '');
  if (extended !== undefined) await writeFileAtomically(path, extended);
}
