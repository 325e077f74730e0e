/**
 * Sync generator (`nx sync`, `nx sync:check`, and before configure, lock and build tasks): keeps the root
 * dune-project, dune-workspace and dune file of each dune root in step with the mirage targets in use, as the
 * model in the project graph says, and the JSON view of every lockfile in step with it.
 */
import { createProjectGraphAsync, readNxJson, type Tree } from '@nx/devkit';
import { modelFromProjects, rootHasUnikernel } from '../../domain';
import { pluginOptionsFromNxJson } from '../../options';
import { syncDuneRoot } from '../shared';

export default async function syncDuneRootGenerator(tree: Tree): Promise<{ outOfSyncMessage?: string } | void> {
  const options = pluginOptionsFromNxJson(readNxJson(tree));
  const graph = await createProjectGraphAsync();
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
