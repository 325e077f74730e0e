import { logger, type ExecutorContext } from '@nx/devkit';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { duneDirCommand } from '../../domain';
import { withDuneRootLock } from '../../adapters/lock';
import { runCommand } from '../../adapters/process';
import { prepareDuneRoot, reducedWorkspace } from '../dune-root';
import { guarded, parseOptions } from '../shared';
import { duneSchema, type DuneOptions } from './schema';

/**
 * dune for an OCaml library project: build (the default alias, host context only), test (runtest) or format
 * (@fmt, promoted), under the dune root lock like every dune run of nx-mirage.
 */
export default async function duneExecutor(raw: DuneOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(duneSchema, raw, 'dune');
    const root = resolve(context.root, options.duneRoot);
    return withDuneRootLock(
      root,
      async () => {
        await prepareDuneRoot(context, options.duneRoot);
        const workspace = options.action === 'format' ? undefined : await reducedWorkspace(root, []);
        try {
          const r = await runCommand(duneDirCommand(options.action, options.dir, workspace), { cwd: root, purpose: `to ${options.action} ${options.dir}` });
          return r.exitCode === 0;
        } finally {
          if (workspace) await rm(workspace, { force: true });
        }
      },
      () => logger.info('nx-mirage: waiting for another dune run in the same dune root to finish...'),
    );
  });
}
