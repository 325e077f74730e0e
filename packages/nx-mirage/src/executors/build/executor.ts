import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { artifactPaths, buildCommand, buildContext } from '../../domain';
import { modifiedTime } from '../../adapters/files';
import { runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { buildSchema, type BuildOptions } from './schema';

/** `dune build --profile release --root . DIR/dist`, then checks that the artifact was promoted. */
export default async function buildExecutor(raw: BuildOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(buildSchema, raw, 'build');
    const unikernel = unikernelOf(context, options);
    const result = await runCommand(buildCommand([unikernel]), { cwd: context.root, purpose: `to build ${unikernel.dir}` });
    if (result.exitCode !== 0) return false;
    for (const artifact of artifactPaths(unikernel)) {
      if ((await modifiedTime(join(context.root, artifact))) === undefined) {
        throw new ExecutorError(
          `dune finished but did not produce ${artifact}. The unikernel is probably configured for another target: ` +
            `run nx run ${context.projectName}:configure${options.target ? ` -c ${options.target}` : ''} and build again ` +
            `(the ${options.target} build runs in dune's ${buildContext(unikernel)} context).`,
        );
      }
    }
    return true;
  });
}
