import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { join } from 'node:path';
import { WORKSPACE_LOCK_FILE, lockCommand, lockVersionsJson, lockVersionsJsonPath, readOpamLockfile, lockFile, lockInputsDigest, lockedFrom, opamFile, recordLockedFrom, workspaceLockCommand } from '../../domain';
import { modifiedTime, readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { withDuneRootLock } from '../../adapters/lock';
import { probe, runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { unikernelsInRoot } from '../workspace-unikernels';
import { schema, type Options } from './schema';

/**
 * `opam monorepo lock` as mirage's Makefile runs it (or, with scope "workspace", once for all unikernels as
 * mirage-skeleton does), skipped while the lockfile is up to date with the opam files.
 */
export default async function lockExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'lock');
    const unikernel = unikernelOf(context, options);
    const members = options.scope === 'workspace' ? unikernelsInRoot(context, options.duneRoot) : [unikernel];
    const lock = options.scope === 'workspace' ? WORKSPACE_LOCK_FILE : lockFile(unikernel);
    return withDuneRootLock(unikernel.root, async () => {
      const opamTexts: string[] = [];
      let newestOpam = 0;
      for (const u of members) {
        const path = join(u.root, opamFile(u));
        const text = await readTextIfExists(path);
        if (text === undefined) throw new ExecutorError(`${opamFile(u)} does not exist: configure the unikernel first (nx run ${u.project}:configure)`);
        opamTexts.push(text);
        newestOpam = Math.max(newestOpam, (await modifiedTime(path)) ?? 0);
      }
      const digest = lockInputsDigest(opamTexts);
      const lockPath = join(unikernel.root, lock);
      const current = await readTextIfExists(lockPath);
      if (!options.force && current !== undefined) {
        const recorded = lockedFrom(current);
        // Locked from these very opam files (content), or, for a lockfile nx-mirage did not write, newer than them (mirage's Makefile rule).
        const fresh = recorded !== undefined ? recorded === digest : ((await modifiedTime(lockPath)) ?? 0) >= newestOpam;
        if (fresh) {
          logger.info(`${lock} is up to date with the opam files; use --force to lock again.`);
          return true;
        }
      }
      const ocamlVersion = await probe('ocamlc', ['-version'], unikernel.root);
      if (!ocamlVersion) {
        throw new ExecutorError('`ocamlc -version` failed: locking needs the OCaml compiler of the switch. Install one with: opam switch create . 4.14.2 (or: apt-get install ocaml-nox)');
      }
      const command = options.scope === 'workspace' ? workspaceLockCommand(members, ocamlVersion) : lockCommand(unikernel, ocamlVersion);
      const result = await runCommand(command, { cwd: unikernel.root, purpose: 'to lock dependencies (opam monorepo needs opam-monorepo: opam install opam-monorepo)' });
      if (result.exitCode !== 0) return false;
      const written = await readTextIfExists(lockPath);
      if (written === undefined) throw new ExecutorError(`opam monorepo lock succeeded but wrote no ${lock}`);
      await writeFileAtomically(lockPath, recordLockedFrom(written, digest));
      await writeFileAtomically(lockVersionsJsonPath(lockPath), lockVersionsJson(readOpamLockfile(written)));
      return true;
    });
  }, context);
}
