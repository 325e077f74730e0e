/**
 * Runs `mirage configure` for unikernels, one after the other under the dune root lock (mirage builds
 * config.exe in the shared _build and writes root files), after nx-mirage's root files are in place.
 */
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { configureCommand } from '../../domain';
import { ToolError, runCommand } from '../../adapters/process';
import { byDuneRoot, prepareDuneRoot, underDuneRootLock } from '../dune-root';
import type { LocatedUnikernel } from '../shared';

export interface ConfigureRequest {
  id: string;
  unikernel: LocatedUnikernel;
  duneRoot: string;
  flags: string[];
}

export async function configureUnikernels(requests: ConfigureRequest[], context: ExecutorContext, capture: boolean) {
  const outcomes = new Map<string, { success: boolean; output: string }>();
  for (const { duneRoot, root, group } of byDuneRoot(requests)) {
    await underDuneRootLock(root, duneRoot, async () => {
      try {
        await prepareDuneRoot(context, duneRoot);
      } catch (e) {
        for (const r of group) outcomes.set(r.id, { success: false, output: `${(e as Error).message}\n` });
        logger.error((e as Error).message);
        return;
      }
      for (const r of group) {
        try {
          const result = await runCommand(configureCommand(r.unikernel, r.flags), {
            cwd: r.unikernel.root,
            purpose: `to configure ${r.unikernel.dir}`,
            capture: capture ? 'tee' : false,
          });
          outcomes.set(r.id, { success: result.exitCode === 0, output: result.all });
        } catch (e) {
          if (!(e instanceof ToolError)) throw e;
          logger.error(e.message);
          outcomes.set(r.id, { success: false, output: `${e.message}\n` });
        }
      }
    });
  }
  return outcomes;
}
