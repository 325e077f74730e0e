/**
 * Sync generator (`nx sync`, `nx sync:check`, and before configure/build tasks): keeps the root dune-project,
 * dune-workspace and dune file of the dune root in step with the mirage targets in use, and the JSON view
 * of every lockfile in step with it.
 */
import { createProjectGraphAsync, readNxJson, visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { lockVersionsJson, lockVersionsJsonPath, readOpamLockfile } from '../../domain';
import { writeRootFiles } from '../shared';
import { pluginOptionsFromNxJson, rootHasUnikernel, targetsInUse } from '../../plugins/workspace';

export default async function syncDuneRootGenerator(tree: Tree): Promise<{ outOfSyncMessage?: string } | void> {
  const options = pluginOptionsFromNxJson(readNxJson(tree) ?? undefined);
  const graph = await createProjectGraphAsync();
  const projects = Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data]));
  const { written, problems } = writeRootFiles(tree, options.duneRoot, targetsInUse(projects, options), {
    rootIsUnikernel: rootHasUnikernel(projects, options.duneRoot),
  });
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
    ...(written.length ? [`The dune root files ${written.join(', ')} do not match the mirage targets in use.`] : []),
    ...(views.length ? [`The package versions of ${views.join(', ')} do not match their lockfiles.`] : []),
    ...problems,
  ];
  return messages.length ? { outOfSyncMessage: messages.join('\n') } : undefined;
}
