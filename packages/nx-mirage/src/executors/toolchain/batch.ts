import { logger, type ExecutorContext, type TaskGraph } from '@nx/devkit';
import { isUserError } from '../shared';
import { reportToolchain } from './report';

/** Batch implementation: one resolution and one report for every toolchain task of the run (they share one toolchain). */
export default async function toolchainBatchExecutor(_taskGraph: TaskGraph, inputs: Record<string, unknown>, _overrides: unknown, context: ExecutorContext) {
  const startTime = Date.now();
  let outcome: { success: boolean; terminalOutput: string };
  try {
    outcome = { success: true, terminalOutput: await reportToolchain(context) };
    logger.info(outcome.terminalOutput.trimEnd());
  } catch (e) {
    if (!isUserError(e)) throw e;
    outcome = { success: false, terminalOutput: `${e.message}\n` };
    logger.error(e.message);
  }
  const endTime = Date.now();
  return Object.fromEntries(Object.keys(inputs).map((id) => [id, { ...outcome, startTime, endTime }]));
}
