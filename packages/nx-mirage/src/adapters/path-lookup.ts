/** Finding a program on a PATH (this process's, or the one of the environment given). No program is run. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import which from 'which';
import { exists } from './files';

export async function findOnPath(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  return which(tool, { nothrow: true, path: env['PATH'] ?? '' });
}

/**
 * Whether `opam NAME` reaches an opam plugin: opam runs `opam-NAME` from its root's plugins/bin (where
 * installing a plugin package links it) or from PATH. A file check, not an opam run.
 */
export async function opamPluginAvailable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (await findOnPath(`opam-${name}`, env)) return true;
  const root = env['OPAMROOT'] || join(homedir(), '.opam');
  return exists(join(root, 'plugins', 'bin', `opam-${name}`));
}

export function findOnPathSync(tool: string, env: NodeJS.ProcessEnv = process.env): string | null {
  return which.sync(tool, { nothrow: true, path: env['PATH'] ?? '' });
}
