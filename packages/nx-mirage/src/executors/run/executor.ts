import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { inDir, runnerCommand } from '../../domain';
import { runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { runSchema, type RunOptions } from './schema';

/** Runs dist/NAME[.ext] with the program of its target; the exit code is the program's. */
export default async function runExecutor(raw: RunOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(runSchema, raw, 'run');
    const unikernel = unikernelOf(context, options);
    const kernel = join(unikernel.root, inDir(unikernel.dir, `dist/${options.artifact}`));
    const command = runnerCommand(unikernel.target, kernel, options.tenderArgs, options.args);
    if (!command) throw new ExecutorError(`The ${unikernel.target} target has no standalone program to run ${options.artifact}.`);
    const result = await runCommand(command, { cwd: join(unikernel.root, unikernel.dir), purpose: `to run ${options.artifact}` });
    return result.exitCode === 0;
  });
}
