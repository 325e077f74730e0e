/**
 * What every nx-mirage executor does the same way: validate options with zod (one message naming the option
 * and what is allowed), find the unikernel of the project being run, and report failures as errors that say
 * what to do, with a non-zero exit.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from './log';
import { z } from 'zod';
import { MIRAGE_TARGETS, type UnikernelRef } from '../domain';
import { ToolError } from '../adapters/process';
import { ToolchainError } from '../adapters/managed-switch';
import { formatZodError } from '../utils/zod';
import { PluginOptionsError } from '../options';
import { useToolchain } from './use-toolchain';

export const mirageTargetOption = z
  .enum(MIRAGE_TARGETS, {
    error: (issue) => `must be a mirage target, one of ${MIRAGE_TARGETS.join(', ')}; got ${JSON.stringify(issue.input)}`,
  })
  .describe('The mirage target (mirage configure -t)');

export const duneRootOption = z.string().default('.').describe('The dune root, relative to the workspace root; set by the plugin');

export const lockScopeOption = z
  .enum(['unikernel', 'workspace'], { error: 'must be "workspace" (one lockfile for the dune root) or "unikernel" (one lockfile each)' })
  .default('workspace')
  .describe('One lockfile for all unikernels of the dune root, or one per unikernel; set by the plugin');

export const configureFlagsOption = z
  .array(z.string(), { error: 'must be a list of mirage configure flags, for example ["--no-dhcp"]' })
  .default([])
  .describe('Extra flags for mirage configure, after -f and -t (they shape what is built); set by the plugin');

export const unikernelOptions = {
  name: z
    .string({ error: 'must be the unikernel name given to register in config.ml' })
    .min(1)
    .describe('The unikernel name (register "NAME" in config.ml); set by the plugin'),
  target: mirageTargetOption,
  duneRoot: duneRootOption,
};

export class ExecutorError extends Error {
  override name = 'ExecutorError';
}

export function parseOptions<S extends z.ZodType>(schema: S, options: unknown, executor: string): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new ExecutorError(`Invalid options for nx-mirage:${executor}:\n${formatZodError(parsed.error)}`);
}

export interface UnikernelOptions {
  name: string;
  target: UnikernelRef['target'];
  duneRoot: string;
}

/** A unikernel located in the workspace: its dune root (absolute) and its directory relative to that root. */
export interface LocatedUnikernel extends UnikernelRef {
  project: string;
  root: string;
}

/** A project's directory relative to its dune root (absolute), which must hold it. */
export interface LocatedProject {
  project: string;
  root: string;
  dir: string;
}

/** Where `projectName` is: its directory is the project root, taken relative to the dune root. */
export function locateProject(context: ExecutorContext, projectName: string | undefined, duneRoot: string): LocatedProject {
  const project = projectName ? context.projectsConfigurations?.projects[projectName] : undefined;
  if (!project || !projectName) throw new ExecutorError(`nx-mirage executors run for a project; none was given (${projectName ?? 'no project name'})`);
  const root = resolve(context.root, duneRoot);
  const dir = relative(root, resolve(context.root, project.root)).split(sep).join('/') || '.';
  if (dir.startsWith('..') || isAbsolute(dir)) {
    throw new ExecutorError(`${project.root} is outside the dune root "${duneRoot}": move the project below it or change the plugin option duneRoot in nx.json`);
  }
  return { project: projectName, root, dir };
}

/** The unikernel of `projectName`. */
export function locateUnikernel(context: ExecutorContext, projectName: string | undefined, options: UnikernelOptions): LocatedUnikernel {
  return { name: options.name, target: options.target, ...locateProject(context, projectName, options.duneRoot) };
}

export function unikernelOf(context: ExecutorContext, options: UnikernelOptions): LocatedUnikernel {
  return locateUnikernel(context, context.projectName, options);
}

/** Errors a user can hit and fix: reported as their message alone, with a non-zero exit. */
export function isUserError(e: unknown): e is Error {
  return e instanceof ExecutorError || e instanceof ToolError || e instanceof ToolchainError || e instanceof PluginOptionsError;
}

/**
 * Runs an executor body; errors users can hit become one logged message and `success: false`. With a
 * context, the workspace's toolchain is resolved first (a managed switch is created or updated on demand).
 */
export async function guarded(body: () => Promise<boolean>, context?: ExecutorContext): Promise<{ success: boolean }> {
  try {
    if (context) await useToolchain(context, (line) => logger.info(line));
    return { success: await body() };
  } catch (e) {
    if (isUserError(e)) {
      logger.error(e.message);
      return { success: false };
    }
    throw e;
  }
}
