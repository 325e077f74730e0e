import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { runBatch } from '../batch-results';
import { buildProjects, buildRequestFor } from './build-unikernels';
import { schema as buildSchema, type BuildOptions } from './schema';

/**
 * Batch implementation (preferBatch): every unikernel build of one Nx run goes to one dune invocation per dune
 * root, after one for the library builds they wait for (one executor, so Nx puts them in the same batch): shared
 * libraries compile once, and dune never runs twice at once in a root.
 */
export default function buildBatchExecutor(taskGraph: TaskGraph, inputs: Record<string, BuildOptions>, _overrides: unknown, context: ExecutorContext) {
  return runBatch(
    'build',
    buildSchema,
    taskGraph,
    inputs,
    context,
    (id, options, task) => buildRequestFor(context, id, options, task?.target.project, task?.target.target ?? 'build'),
    (requests) => buildProjects(requests, context),
  );
}
