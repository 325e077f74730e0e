import type { ExecutorContext } from '@nx/devkit';
import { configureCommand } from '../../domain';
import { runCommand } from '../../adapters/process';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { configureSchema, type ConfigureOptions } from './schema';

export default async function configureExecutor(raw: ConfigureOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(configureSchema, raw, 'configure');
    const unikernel = unikernelOf(context, options);
    const result = await runCommand(configureCommand(unikernel, options.configureFlags), {
      cwd: context.root,
      purpose: `to configure ${unikernel.dir}`,
    });
    return result.exitCode === 0;
  });
}
