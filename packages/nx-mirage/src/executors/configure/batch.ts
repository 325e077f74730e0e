import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatch } from '../batch-results';
import { locateUnikernel } from '../shared';
import { configureUnikernels } from './configure-unikernels';
import { schema as configureSchema, type ConfigureOptions } from './schema';

/**
 * Batch implementation: the configure tasks of one Nx run finish together, so the builds that depend on them
 * become ready at once and Nx hands them to one build batch (one dune invocation).
 */
export default function configureBatchExecutor(taskGraph: TaskGraph, inputs: Record<string, ConfigureOptions>, _overrides: unknown, context: ExecutorContext) {
  return runBatch(
    'configure',
    configureSchema,
    taskGraph,
    inputs,
    context,
    (id, options, task) => ({ id, unikernel: locateUnikernel(context, task?.target.project, options), duneRoot: options.duneRoot, flags: options.configureFlags }),
    (requests) => configureUnikernels(requests, context, true),
  );
}
