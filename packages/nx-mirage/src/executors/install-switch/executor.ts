import type { ExecutorContext } from '@nx/devkit';
import { installSwitchCommand } from '../../domain';
import { runCommand } from '../../adapters/process';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { schema, type Options } from './schema';

/** `opam install DIR/mirage/X.opam --deps-only`: installs the switch tools the opam file asks for. Never cached. */
export default async function installSwitchExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const unikernel = unikernelOf(context, parseOptions(schema, raw, 'install-switch'));
    const result = await runCommand(installSwitchCommand(unikernel), { cwd: unikernel.root, purpose: 'to install the switch tools of the unikernel' });
    return result.exitCode === 0;
  }, context);
}
