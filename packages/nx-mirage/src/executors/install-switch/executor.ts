import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { logger } from '../log';
import { installSwitchCommand } from '../../domain';
import { runCommand } from '../../adapters/process';
import { configuredMembers } from '../configured';
import { prepareDuneRoot, underDuneRootLock } from '../dune-root';
import { ExecutorError, guarded, parseOptions } from '../shared';
import { schema, type Options } from './schema';

/**
 * `opam install DIR/mirage/X.opam ... --deps-only`: the switch tools every unikernel's opam file asks for, in
 * one opam call. Unikernels that are not configured are configured first. Never cached.
 */
export default async function installSwitchExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'install-switch');
    const root = resolve(context.root, options.duneRoot);
    const { members, problems } = await underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      return configuredMembers(context, options.duneRoot, root);
    });
    for (const p of problems) logger.warn(`nx-mirage: ${p}`);
    if (members.length === 0) {
      if (problems.length > 0) throw new ExecutorError('No unikernel of the dune root could be configured, so there is nothing to install; fix the config.ml files above.');
      logger.info('nx-mirage: the dune root has no unikernel whose switch tools to install.');
      return true;
    }
    const result = await runCommand(installSwitchCommand(members), { cwd: root, purpose: 'to install the switch tools of the unikernels' });
    return result.exitCode === 0;
  }, context);
}
