import type { ExecutorContext } from '@nx/devkit';
import { guarded, parseOptions } from '../shared';
import { buildProjects, buildRequestFor } from './build-unikernels';
import { schema as buildSchema, type BuildOptions } from './schema';

/** Builds one unikernel or library; `nx run-many` and affected builds use the batch implementation (one dune call). */
export default async function buildExecutor(raw: BuildOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(buildSchema, raw, 'build');
    const outcomes = await buildProjects([buildRequestFor(context, 'build', options, context.projectName, context.targetName ?? 'build')], context);
    return outcomes.get('build')?.success ?? false;
  }, context);
}
