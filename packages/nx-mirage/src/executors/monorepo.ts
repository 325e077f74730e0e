/**
 * Runs an `opam monorepo` command. opam without the opam-monorepo plugin answers "unknown command
 * 'monorepo'"; that becomes a message naming the plugin, the command that installs it and the alternative.
 */
import type { Command } from '../domain';
import { runCommand } from '../adapters/process';
import { ExecutorError } from './shared';

/** The message for opam without the opam-monorepo plugin, or undefined when the output is something else. */
export function missingMonorepoMessage(output: string, what: string): string | undefined {
  if (!/unknown command '?monorepo'?/.test(output)) return undefined;
  return (
    `opam-monorepo is not installed: \`opam monorepo ${what}\` is a command of the opam-monorepo plugin, which this opam does not have. ` +
    `Install it with: opam install opam-monorepo (or, when every library the unikernels use is installed in the opam switch, set "monorepo": false in the nx-mirage options of nx.json).`
  );
}

/** Runs the command from the dune root, output shown; false when it failed, an ExecutorError when opam-monorepo is missing. */
export async function runMonorepo(command: Command, root: string, what: 'lock' | 'pull'): Promise<boolean> {
  const result = await runCommand(command, { cwd: root, capture: 'tee', purpose: `to ${what} dependencies with opam-monorepo` });
  if (result.exitCode === 0) return true;
  const missing = missingMonorepoMessage(result.all, what);
  if (missing) throw new ExecutorError(missing);
  return false;
}
