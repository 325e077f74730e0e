import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { lockFile, pullCommand } from '../../domain';
import { modifiedTime } from '../../adapters/files';
import { runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { schema, type Options } from './schema';

/** `opam monorepo pull` into DIR/duniverse/. */
export default async function pullExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const unikernel = unikernelOf(context, parseOptions(schema, raw, 'pull'));
    if ((await modifiedTime(join(unikernel.root, lockFile(unikernel)))) === undefined) {
      throw new ExecutorError(`${lockFile(unikernel)} does not exist: lock the dependencies first (nx run ${context.projectName}:lock)`);
    }
    const result = await runCommand(pullCommand(unikernel, unikernel.root), { cwd: unikernel.root, purpose: 'to vendor dependencies with opam-monorepo' });
    return result.exitCode === 0;
  });
}
