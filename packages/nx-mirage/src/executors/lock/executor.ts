import { logger, type ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { WORKSPACE_LOCK_FILE, lockCommand, lockFile, opamFile, workspaceLockCommand } from '../../domain';
import { modifiedTime } from '../../adapters/files';
import { withDuneRootLock } from '../../adapters/lock';
import { probe, runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { unikernelsInRoot } from '../workspace-unikernels';
import { schema, type Options } from './schema';

/**
 * `opam monorepo lock` as mirage's Makefile runs it (or, with scope "workspace", once for all unikernels as
 * mirage-skeleton does), skipped like the Makefile rule while the lockfile is newer than the opam files.
 */
export default async function lockExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'lock');
    const unikernel = unikernelOf(context, options);
    const members = options.scope === 'workspace' ? unikernelsInRoot(context, options.duneRoot) : [unikernel];
    const lock = options.scope === 'workspace' ? WORKSPACE_LOCK_FILE : lockFile(unikernel);
    return withDuneRootLock(unikernel.root, async () => {
      let newestOpam = 0;
      for (const u of members) {
        const mtime = await modifiedTime(join(u.root, opamFile(u)));
        if (mtime === undefined) throw new ExecutorError(`${opamFile(u)} does not exist: configure the unikernel first (nx run ${u.project}:configure)`);
        newestOpam = Math.max(newestOpam, mtime);
      }
      const locked = await modifiedTime(join(unikernel.root, lock));
      if (!options.force && locked !== undefined && locked >= newestOpam) {
        logger.info(`${lock} is up to date (newer than the opam files); use --force to lock again.`);
        return true;
      }
      const ocamlVersion = await probe('ocamlc', ['-version'], unikernel.root);
      if (!ocamlVersion) {
        throw new ExecutorError('`ocamlc -version` failed: locking needs the OCaml compiler of the switch. Install one with: opam switch create . 4.14.2 (or: apt-get install ocaml-nox)');
      }
      const command = options.scope === 'workspace' ? workspaceLockCommand(members, ocamlVersion) : lockCommand(unikernel, ocamlVersion);
      const result = await runCommand(command, { cwd: unikernel.root, purpose: 'to lock dependencies (opam monorepo needs opam-monorepo: opam install opam-monorepo)' });
      return result.exitCode === 0;
    });
  });
}
