/**
 * The dune contexts a library project is built in: those of the unikernel builds of the same run that use
 * it (their dune call then reuses the work instead of compiling the library again), else the host context.
 */
import type { ExecutorContext } from '@nx/devkit';
import { isMirageTarget, targetInfo, type MirageTarget } from '../domain';

export interface LibraryContexts {
  contexts: string[];
  /** The targets of the unikernels that need it (their cross toolchains must be defined). */
  targets: MirageTarget[];
}

/** Whether `from` uses `to` in the project graph, directly or through other projects. */
export function uses(context: ExecutorContext, from: string, to: string): boolean {
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

/** The contexts of unikernel builds of `targets` (none: the host context). */
export function contextsOf(targets: Iterable<MirageTarget>): LibraryContexts {
  const unique = [...new Set(targets)];
  if (unique.length === 0) return { contexts: ['default'], targets: [] };
  return { contexts: [...new Set(unique.map((t) => targetInfo(t).context))].sort(), targets: unique };
}

/**
 * The contexts of the unikernel builds in the task graph of this run that depend on the library task and
 * use the library in the project graph (a task dependency alone does not mean the unikernel uses it).
 */
export function contextsOfDependents(context: ExecutorContext, project: string | undefined = context.projectName, targetName: string | undefined = context.targetName): LibraryContexts {
  const graph = context.taskGraph;
  const self = graph && Object.values(graph.tasks).find((t) => t.target.project === project && t.target.target === targetName);
  if (!graph || !self) return contextsOf([]);
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
    const options = config?.options as { target?: string; name?: string } | undefined;
    const chosen = task.target.configuration && isMirageTarget(task.target.configuration) ? task.target.configuration : options?.target;
    // A unikernel build (a library build has no name).
    if (config?.executor === 'nx-mirage:build' && options?.name && chosen && isMirageTarget(chosen) && uses(context, task.target.project, self.target.project)) targets.add(chosen);
  }
  return contextsOf(targets);
}
