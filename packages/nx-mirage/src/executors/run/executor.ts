import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { runForwardingSignals } from '../../adapters/process';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { prepareRun } from './prepare';
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
    const { command, cwd, shown } = await prepareRun(u, options);
    const code = await runForwardingSignals(command, { cwd, purpose: `to run ${shown}` });
    if (code !== 0) logger.error(`${command.file} exited with code ${code}`);
    return code === 0;
  }, context);
}
