/**
 * The Nx internals nx-mirage relies on, in one place. They are deep imports because `@nx/devkit/internal`
 * only exists from Nx 23 on, and the plugin supports Nx 22 to 24; these paths resolve in all three.
 */
import { join } from 'node:path';
import { PluginCache } from 'nx/src/utils/plugin-cache-utils';
import * as cacheDirectory from 'nx/src/utils/cache-directory';
import { hashMultiGlobWithWorkspaceContext } from 'nx/src/utils/workspace-context';
import { isOnDaemon } from 'nx/src/daemon/is-on-daemon';

export { PluginCache, isOnDaemon };
/**
 * What inference uses of the devkit, from the module `@nx/devkit` re-exports them from. The devkit's own entry
 * also loads its generator utilities, about 70-100 ms here, in every plugin worker the daemon starts again after
 * an edit (README, Performance).
 */
export { AggregateCreateNodesError, DependencyType, logger, validateDependency } from 'nx/src/devkit-exports';

/** The checkout's `.nx/workspace-data` (or `NX_WORKSPACE_DATA_DIRECTORY`) for `workspaceRoot`. */
export function workspaceDataDirectoryFor(workspaceRoot: string): string {
  const forWorkspace = (cacheDirectory as { workspaceDataDirectoryForWorkspace?: (root: string) => string })
    .workspaceDataDirectoryForWorkspace;
  return forWorkspace ? forWorkspace(workspaceRoot) : cacheDirectory.workspaceDataDirectory;
}

/** One content hash per file, from the hashes Nx already keeps for the workspace (no file is read). */
export function hashFiles(workspaceRoot: string, files: readonly string[]): Promise<string[]> {
  return hashMultiGlobWithWorkspaceContext(workspaceRoot, files.map((f) => [f]));
}

export function pluginCachePath(workspaceRoot: string, name: string): string {
  return join(workspaceDataDirectoryFor(workspaceRoot), name);
}

type AddPlugin = typeof import('@nx/devkit/internal').addPlugin;

/** `addPlugin`, the first-party way of registering an inferred plugin: from @nx/devkit/internal (Nx 23+) or its Nx 22 path. */
export function addPluginFn(): AddPlugin {
  try {
    // A runtime require, so that the module still loads on Nx 22, where this entry point does not exist.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nx/devkit/internal') as { addPlugin: AddPlugin }).addPlugin;
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nx/devkit/src/utils/add-plugin') as { addPlugin: AddPlugin }).addPlugin;
  }
}
