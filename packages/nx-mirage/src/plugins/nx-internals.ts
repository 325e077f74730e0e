/**
 * The Nx internals nx-mirage relies on, in one place. They are deep imports because `@nx/devkit/internal`
 * only exists from Nx 23 on, and the plugin supports Nx 22 to 24; these paths resolve in all three.
 */
import { join } from 'node:path';
import { PluginCache } from 'nx/src/utils/plugin-cache-utils';
import * as cacheDirectory from 'nx/src/utils/cache-directory';
import { hashMultiGlobWithWorkspaceContext } from 'nx/src/utils/workspace-context';

export { PluginCache };

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
