/**
 * Sync generator (`nx sync`, `nx sync:check`, and before configure, lock and build tasks): keeps the root
 * dune-project, dune-workspace and dune file of each dune root in step with the mirage targets in use, as the
 * model in the project graph says, and the JSON view of every lockfile in step with it.
 */
import { performance } from 'node:perf_hooks';
import { createProjectGraphAsync, readCachedProjectGraph, readNxJson, type ProjectGraph, type Tree } from '@nx/devkit';
import { modelFromProjects, rootHasUnikernel } from '../../domain';
import { pluginOptionsFromNxJson } from '../../options';
import { isOnDaemon } from '../../plugins/nx-internals';
import { syncDuneRoot } from '../shared';

/**
 * The project graph this command runs on. Without the daemon (CI=false with NX_DAEMON=false, or in a container,
 * where Nx turns it off), Nx computes the graph, and writes it to its cache, in this very process just before it
 * runs the sync generators: computing it again here would start every plugin's worker once more (about 1.2 s
 * on two cores for a command, README "The development loop"). A graph cached since this process started is
 * that one, or a newer one; an older one, none, or one with errors, and it is computed. On the daemon the graph
 * comes from its memory.
 */
async function currentProjectGraph(): Promise<ProjectGraph> {
  if (!isOnDaemon()) {
    try {
      return readCachedProjectGraph(Math.floor(performance.timeOrigin));
    } catch {
      // Stale, missing or failed: computed below, which reports a failure as Nx does.
    }
  }
  return createProjectGraphAsync();
}

export default async function syncDuneRootGenerator(tree: Tree): Promise<{ outOfSyncMessage?: string } | void> {
  const options = pluginOptionsFromNxJson(readNxJson(tree));
  const graph = await currentProjectGraph();
  const roots = modelFromProjects(Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data])));
  if (!roots.some((r) => r.duneRoot === options.duneRoot)) roots.push({ duneRoot: options.duneRoot, project: '', unikernels: [], libraries: [], targets: [...options.additionalTargets] });
  const results = roots.map((r) => syncDuneRoot(tree, r.duneRoot, r.targets, rootHasUnikernel(r)));
  // A user-owned file that lacks what a target needs cannot be synced: fail (`nx sync:check` exits non-zero, and
  // tasks do not start), since Nx reports a sync generator's message only when it changed files.
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const messages = results.flatMap((r) => r.outOfSync);
  return messages.length ? { outOfSyncMessage: messages.join('\n') } : undefined;
}
