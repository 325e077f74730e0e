/**
 * Keeps the dune root ready before mirage or dune run in it: nx-mirage's dune-project, dune-workspace (with the
 * contexts of the targets in use) and root dune file. Called while holding the dune root lock.
 */
import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { planRootFiles, type RootFileName } from '../domain';
import { readTextIfExists, writeFileAtomically } from '../adapters/files';
import { pluginOptionsFromNxJson, rootHasUnikernel, targetsInUse } from '../plugins/workspace';
import { ExecutorError } from './shared';

const ROOT_FILES: RootFileName[] = ['dune-project', 'dune-workspace', 'dune'];

export async function prepareDuneRoot(context: ExecutorContext, duneRoot: string): Promise<void> {
  const options = pluginOptionsFromNxJson(context.nxJsonConfiguration);
  const projects = context.projectsConfigurations?.projects ?? {};
  const root = join(context.root, duneRoot);
  const current = Object.fromEntries(await Promise.all(ROOT_FILES.map(async (f) => [f, await readTextIfExists(join(root, f))] as const)));
  const plan = planRootFiles(current, targetsInUse(projects, options), rootHasUnikernel(projects, duneRoot));
  if (plan.problems.length > 0) {
    // Each problem starts with the file name; prefix the dune root so the message names the file from the workspace root.
    throw new ExecutorError(plan.problems.map((p) => (duneRoot === '.' ? p : `${duneRoot}/${p}`)).join('\n'));
  }
  for (const [name, content] of Object.entries(plan.writes)) {
    await writeFileAtomically(join(root, name), content!);
  }
}
