/**
 * Sync generator (`nx sync`, `nx sync:check`, and before configure/build tasks): keeps the root dune-project,
 * dune-workspace and dune file of the dune root in step with the mirage targets in use, and the JSON view
 * of every lockfile in step with it.
 */
import { createProjectGraphAsync, readNxJson, visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { posix } from 'node:path';
import { lockVersionsJson, lockVersionsJsonPath, planRootFiles, readOpamLockfile, type RootFileName } from '../../domain';
import { pluginOptionsFromNxJson, rootHasUnikernel, targetsInUse } from '../../plugins/workspace';

const ROOT_FILES: RootFileName[] = ['dune-project', 'dune-workspace', 'dune'];

export default async function syncDuneRootGenerator(tree: Tree): Promise<{ outOfSyncMessage?: string } | void> {
  const options = pluginOptionsFromNxJson(readNxJson(tree) ?? undefined);
  const graph = await createProjectGraphAsync();
  const projects = Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data]));
  const path = (f: RootFileName) => posix.join(options.duneRoot, f);
  const current = Object.fromEntries(ROOT_FILES.map((f) => [f, tree.exists(path(f)) ? tree.read(path(f), 'utf-8') ?? undefined : undefined]));
  const plan = planRootFiles(current, targetsInUse(projects, options), rootHasUnikernel(projects, options.duneRoot));
  const written = Object.entries(plan.writes) as Array<[RootFileName, string]>;
  for (const [name, content] of written) tree.write(path(name), content);
  // The JSON view of each lockfile, which inputs select packages from (also written by the lock target).
  const views: string[] = [];
  visitNotIgnoredFiles(tree, options.duneRoot === '.' ? '' : options.duneRoot, (file) => {
    if (!file.endsWith('.opam.locked') || /(^|\/)(_build|duniverse|node_modules)\//.test(file)) return;
    const view = lockVersionsJson(readOpamLockfile(tree.read(file, 'utf-8') ?? ''));
    const target = lockVersionsJsonPath(file);
    if ((tree.exists(target) ? tree.read(target, 'utf-8') : undefined) !== view) {
      tree.write(target, view);
      views.push(target);
    }
  });
  const messages = [
    ...(written.length ? [`The dune root files ${written.map(([n]) => path(n)).join(', ')} do not match the mirage targets in use.`] : []),
    ...(views.length ? [`The package versions of ${views.join(', ')} do not match their lockfiles.`] : []),
    ...plan.problems,
  ];
  return messages.length ? { outOfSyncMessage: messages.join('\n') } : undefined;
}
