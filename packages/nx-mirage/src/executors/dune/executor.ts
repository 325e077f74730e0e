import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { duneDirCommand, type FindlibToolchain } from '../../domain';
import type { ToolchainCheck } from '../../adapters/toolchain';
import { runCommand } from '../../adapters/process';
import { prepareDuneRoot, reducedWorkspace, removeTemporaryWorkspace, undefinedToolchainProblem, underDuneRootLock } from '../dune-root';
import { ExecutorError, guarded, parseOptions } from '../shared';
import { contextsOfDependents } from '../library-contexts';
import { schema as duneSchema, type DuneOptions } from './schema';

/**
 * dune for an OCaml library directory: build (the default alias, in the contexts of the unikernel builds of
 * the run that use it, else the host's; inferred library builds use nx-mirage:build, which builds them in
 * the same dune call as those unikernels), test (runtest) or format (@fmt, promoted), under the dune root
 * lock like every dune run of nx-mirage.
 */
export default async function duneExecutor(raw: DuneOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(duneSchema, raw, 'dune');
    const root = resolve(context.root, options.duneRoot);
    return underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      const needed = options.action === 'build' ? contextsOfDependents(context) : { contexts: ['default'], targets: [] };
      const checks = new Map<FindlibToolchain, Promise<ToolchainCheck>>();
      const problem = await undefinedToolchainProblem(needed.targets, checks, root);
      if (problem) throw new ExecutorError(problem);
      const workspace = options.action === 'format' ? undefined : await reducedWorkspace(root, needed.targets, checks);
      try {
        const r = await runCommand(duneDirCommand(options.action, options.dir, workspace, needed.contexts), { cwd: root, purpose: `to ${options.action} ${options.dir}` });
        return r.exitCode === 0;
      } finally {
        await removeTemporaryWorkspace(workspace);
      }
    });
  }, context);
}
