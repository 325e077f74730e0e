/**
 * What every nx-mirage executor does the same way: validate options with zod (one message naming the option
 * and what is allowed), find the unikernel of the project being run, and report failures as errors that say
 * what to do, with a non-zero exit.
 */
import { logger, type ExecutorContext } from '@nx/devkit';
import { z } from 'zod';
import { MIRAGE_TARGETS, type UnikernelRef } from '../domain';
import { ToolError } from '../adapters/process';
import { formatZodError } from '../utils/zod';

export const mirageTargetOption = z
  .enum(MIRAGE_TARGETS, {
    error: (issue) => `must be a mirage target, one of ${MIRAGE_TARGETS.join(', ')}; got ${JSON.stringify(issue.input)}`,
  })
  .describe('The mirage target (mirage configure -t)');

export const unikernelOptions = {
  name: z
    .string({ error: 'must be the unikernel name given to register in config.ml' })
    .min(1)
    .describe('The unikernel name (register "NAME" in config.ml); set by the plugin'),
  target: mirageTargetOption,
};

export class ExecutorError extends Error {
  override name = 'ExecutorError';
}

export function parseOptions<S extends z.ZodType>(schema: S, options: unknown, executor: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new ExecutorError(`Invalid options for nx-mirage:${executor}:\n${formatZodError(parsed.error)}`);
}

/** The unikernel of the project being run: its directory is the project root, relative to the dune root. */
export function unikernelOf(context: ExecutorContext, options: { name: string; target: UnikernelRef['target'] }): UnikernelRef {
  const project = context.projectName ? context.projectsConfigurations?.projects[context.projectName] : undefined;
  if (!project) throw new ExecutorError(`nx-mirage executors run for a project; none was given (${context.projectName ?? 'no project name'})`);
  return { name: options.name, dir: project.root === '' ? '.' : project.root, target: options.target };
}

/** Runs an executor body; errors users can hit become one logged message and `success: false`. */
export async function guarded(body: () => Promise<boolean>): Promise<{ success: boolean }> {
  try {
    return { success: await body() };
  } catch (e) {
    if (e instanceof ExecutorError || e instanceof ToolError) {
      logger.error(e.message);
      return { success: false };
    }
    throw e;
  }
}
