/** Finding a program on a PATH (this process's, or the one of the environment given). No program is run. */
import which from 'which';

export async function findOnPath(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  return which(tool, { nothrow: true, path: env['PATH'] ?? '' });
}
