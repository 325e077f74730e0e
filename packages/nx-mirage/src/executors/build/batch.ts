import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { ExecutorError, locateUnikernel, parseOptions } from '../shared';
import { buildUnikernels, type BuildRequest } from './build-unikernels';
import { buildSchema, type BuildOptions } from './schema';

interface TaskResult {
  success: boolean;
  terminalOutput: string;
  startTime?: number;
  endTime?: number;
}

/**
 * The batch implementation (preferBatch): every unikernel build of one Nx run goes to one dune invocation per
 * dune root, so shared libraries compile once and dune never runs twice at once in a root.
 */
export default async function buildBatchExecutor(
  taskGraph: TaskGraph,
  inputs: Record<string, BuildOptions>,
  _overrides: unknown,
  context: ExecutorContext,
): Promise<Record<string, TaskResult>> {
  const startTime = Date.now();
  const results: Record<string, TaskResult> = {};
  const requests: BuildRequest[] = [];
  for (const [id, raw] of Object.entries(inputs)) {
    try {
      const options = parseOptions(buildSchema, raw, 'build');
      requests.push({ id, unikernel: locateUnikernel(context, taskGraph.tasks[id]?.target.project, options), duneRoot: options.duneRoot });
    } catch (e) {
      if (!(e instanceof ExecutorError)) throw e;
      results[id] = { success: false, terminalOutput: `${e.message}\n`, startTime, endTime: Date.now() };
    }
  }
  const outcomes = await buildUnikernels(requests, context);
  const endTime = Date.now();
  for (const r of requests) {
    const o = outcomes.get(r.id) ?? { success: false, output: 'not built\n' };
    results[r.id] = { success: o.success, terminalOutput: o.output, startTime, endTime };
  }
  return results;
}
