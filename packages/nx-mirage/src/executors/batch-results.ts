import type { ExecutorContext, Task, TaskGraph } from '@nx/devkit';
import { logger } from './log';
import { ExecutorError, isUserError, parseOptions } from './shared';
import { useToolchain } from './use-toolchain';
import type { z } from 'zod';

export interface BatchTaskResult {
  success: boolean;
  terminalOutput: string;
  startTime?: number;
  endTime?: number;
}

/** One outcome for every task of a batch (a batch-wide failure: the toolchain could not be used). */
function sameResultForAll(inputs: Record<string, unknown>, outcome: { success: boolean; terminalOutput: string }, startTime: number): Record<string, BatchTaskResult> {
  const endTime = Date.now();
  return Object.fromEntries(Object.keys(inputs).map((id) => [id, { ...outcome, startTime, endTime }]));
}

/**
 * The common shape of nx-mirage's batch executors: validate each task's options, make its request (which
 * locates its project), run all of them together, and report one result per task (a task whose options or
 * project are wrong fails alone).
 */
export async function runBatch<S extends z.ZodType, R extends { id: string }>(
  executor: string,
  schema: S,
  taskGraph: TaskGraph,
  inputs: Record<string, unknown>,
  context: ExecutorContext,
  toRequest: (id: string, options: z.output<S>, task: Task | undefined) => R,
  run: (requests: R[]) => Promise<Map<string, { success: boolean; output: string }>>,
): Promise<Record<string, BatchTaskResult>> {
  const startTime = Date.now();
  const results: Record<string, BatchTaskResult> = {};
  try {
    await useToolchain(context, (line) => logger.info(line));
  } catch (e) {
    if (!isUserError(e)) throw e;
    return sameResultForAll(inputs, { success: false, terminalOutput: `${e.message}\n` }, startTime);
  }
  const requests: R[] = [];
  for (const [id, raw] of Object.entries(inputs)) {
    try {
      const options = parseOptions(schema, raw, executor);
      requests.push(toRequest(id, options, taskGraph.tasks[id]));
    } catch (e) {
      if (!(e instanceof ExecutorError)) throw e;
      results[id] = { success: false, terminalOutput: `${e.message}\n`, startTime, endTime: Date.now() };
    }
  }
  const outcomes = await run(requests);
  const endTime = Date.now();
  for (const r of requests) {
    const o = outcomes.get(r.id) ?? { success: false, output: 'not run\n' };
    results[r.id] = { success: o.success, terminalOutput: o.output, startTime, endTime };
  }
  return results;
}
