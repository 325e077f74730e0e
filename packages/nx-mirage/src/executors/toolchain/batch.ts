import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { logger } from '../log';
import { sameResultForAll } from '../batch-results';
import { isUserError } from '../shared';
import { reportToolchain } from './report';

/** Batch implementation: one resolution and one report for every toolchain task of the run (they share one toolchain). */
export default async function toolchainBatchExecutor(_taskGraph: TaskGraph, inputs: Record<string, unknown>, _overrides: unknown, context: ExecutorContext) {
  const startTime = Date.now();
  try {
    const report = await reportToolchain(context);
    logger.info(report.trimEnd());
    return sameResultForAll(inputs, { success: true, terminalOutput: report }, startTime);
  } catch (e) {
    if (!isUserError(e)) throw e;
    logger.error(e.message);
    return sameResultForAll(inputs, { success: false, terminalOutput: `${e.message}\n` }, startTime);
  }
}
