import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatch } from '../batch-results';
import { buildUnikernels } from './build-unikernels';
import { schema as buildSchema, type BuildOptions } from './schema';

/**
 * Batch implementation (preferBatch): every unikernel build of one Nx run goes to one dune invocation per
 * dune root, so shared libraries compile once and dune never runs twice at once in a root.
 */
export default function buildBatchExecutor(taskGraph: TaskGraph, inputs: Record<string, BuildOptions>, _overrides: unknown, context: ExecutorContext) {
  return runBatch(
    'build',
    buildSchema,
    taskGraph,
    inputs,
    context,
    (id, options, unikernel) => ({ id, unikernel, duneRoot: options.duneRoot, configureFlags: options.configureFlags }),
    (requests) => buildUnikernels(requests, context),
  );
}
