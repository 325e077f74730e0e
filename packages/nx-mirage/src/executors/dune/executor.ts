import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { duneDirCommand, findlibToolchainsFor, isMirageTarget, targetInfo, undefinedToolchainMessage, type FindlibToolchain, type MirageTarget } from '../../domain';
import type { ToolchainCheck } from '../../adapters/toolchain';
import { runCommand } from '../../adapters/process';
import { prepareDuneRoot, reducedWorkspace, removeTemporaryWorkspace, toolchainCheck, underDuneRootLock } from '../dune-root';
import { ExecutorError, guarded, parseOptions } from '../shared';
import { schema as duneSchema, type DuneOptions } from './schema';

/** Whether `from` uses `to` in the project graph, directly or through other projects. */
function uses(context: ExecutorContext, from: string, to: string): boolean {
  const dependencies = context.projectGraph?.dependencies ?? {};
  const seen = new Set<string>();
  const pending = [from];
  while (pending.length > 0) {
    const p = pending.pop()!;
    for (const d of dependencies[p] ?? []) {
      if (d.target === to) return true;
      if (!seen.has(d.target)) pending.push((seen.add(d.target), d.target));
    }
  }
  return false;
}

/**
 * The contexts to build a library in: those of the unikernel builds of this run that use it (their dune call
 * then reuses the work instead of compiling the library again), else the host context. Every unikernel build
 * waits for every library of the dune root, so a task dependency alone does not mean the unikernel uses it.
 */
function contextsOfDependents(context: ExecutorContext): { contexts: string[]; targets: MirageTarget[] } {
  const graph = context.taskGraph;
  const self = graph && Object.values(graph.tasks).find((t) => t.target.project === context.projectName && t.target.target === context.targetName);
  if (!graph || !self) return { contexts: ['default'], targets: [] };
  const dependents = new Set<string>();
  const visit = (id: string) => {
    for (const [task, deps] of Object.entries(graph.dependencies)) {
      // Edges are task ids up to Nx 23 and { id } objects from Nx 24.
      const dependsOnId = (deps as Array<string | { id: string }>).some((d) => (typeof d === 'string' ? d : d.id) === id);
      if (dependsOnId && !dependents.has(task)) {
        dependents.add(task);
        visit(task);
      }
    }
  };
  visit(self.id);
  const targets = new Set<MirageTarget>();
  for (const id of dependents) {
    const task = graph.tasks[id]!;
    const config = context.projectsConfigurations?.projects[task.target.project]?.targets?.[task.target.target];
    const target = (config?.options as { target?: string } | undefined)?.target;
    const chosen = task.target.configuration && isMirageTarget(task.target.configuration) ? task.target.configuration : target;
    if (config?.executor === 'nx-mirage:build' && chosen && isMirageTarget(chosen) && uses(context, task.target.project, self.target.project)) targets.add(chosen);
  }
  if (targets.size === 0) return { contexts: ['default'], targets: [] };
  return { contexts: [...new Set([...targets].map((t) => targetInfo(t).context))].sort(), targets: [...targets] };
}

/**
 * dune for an OCaml library project: build (the default alias, host context only), test (runtest) or format
 * (@fmt, promoted), under the dune root lock like every dune run of nx-mirage.
 */
export default async function duneExecutor(raw: DuneOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(duneSchema, raw, 'dune');
    const root = resolve(context.root, options.duneRoot);
    return underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      const needed = options.action === 'build' ? contextsOfDependents(context) : { contexts: ['default'], targets: [] };
      // A cross context needs its findlib toolchain: without it dune 3 would compile with the host compiler.
      const checks = new Map<FindlibToolchain, Promise<ToolchainCheck>>();
      for (const toolchain of findlibToolchainsFor(needed.targets)) {
        const check = await toolchainCheck(checks, toolchain, root);
        if (!check.defined) throw new ExecutorError(undefinedToolchainMessage(toolchain, needed.targets.filter((t) => targetInfo(t).toolchain === toolchain), check.reason));
      }
      const workspace = options.action === 'format' ? undefined : await reducedWorkspace(root, needed.targets, checks);
      try {
        const r = await runCommand(duneDirCommand(options.action, options.dir, workspace, needed.contexts), { cwd: root, purpose: `to ${options.action} ${options.dir}` });
        return r.exitCode === 0;
      } finally {
        await removeTemporaryWorkspace(workspace);
      }
    });
  }, context);
}
