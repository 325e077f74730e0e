import { logger, type ExecutorContext } from '@nx/devkit';
import { configureCommand } from '../../domain';
import { withDuneRootLock } from '../../adapters/lock';
import { runCommand } from '../../adapters/process';
import { prepareDuneRoot } from '../dune-root';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { configureSchema, type ConfigureOptions } from './schema';

/**
 * `mirage configure -f DIR/config.ml -t TARGET` from the dune root. mirage builds config.exe in the shared
 * _build and writes root files, so configure holds the dune root lock, and the root files are nx-mirage's
 * before mirage runs (mirage then leaves them alone).
 */
export default async function configureExecutor(raw: ConfigureOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(configureSchema, raw, 'configure');
    const unikernel = unikernelOf(context, options);
    return withDuneRootLock(
      unikernel.root,
      async () => {
        await prepareDuneRoot(context, options.duneRoot);
        const result = await runCommand(configureCommand(unikernel, options.configureFlags), {
          cwd: unikernel.root,
          purpose: `to configure ${unikernel.dir}`,
        });
        return result.exitCode === 0;
      },
      () => logger.info('nx-mirage: waiting for another dune run in the same dune root to finish...'),
    );
  });
}
