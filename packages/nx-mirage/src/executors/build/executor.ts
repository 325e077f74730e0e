import type { ExecutorContext } from '@nx/devkit';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { buildUnikernels } from './build-unikernels';
import { schema as buildSchema, type BuildOptions } from './schema';

/** Builds one unikernel; `nx run-many` and affected builds use the batch implementation (one dune call). */
export default async function buildExecutor(raw: BuildOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(buildSchema, raw, 'build');
    const outcomes = await buildUnikernels([{ id: 'build', unikernel: unikernelOf(context, options), duneRoot: options.duneRoot, configureFlags: options.configureFlags }], context);
    return outcomes.get('build')?.success ?? false;
  }, context);
}
