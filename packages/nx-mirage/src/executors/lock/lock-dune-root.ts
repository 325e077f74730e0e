import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { logger } from '../log';
import {
  WORKSPACE_LOCK_FILE,
  inDir,
  lockCommand,
  lockFile,
  lockInputsDigest,
  lockVersionsJson,
  lockVersionsJsonPath,
  lockedFrom,
  opamFile,
  readLockClosures,
  readOpamLockfile,
  recordLockedFrom,
  workspaceLockCommand,
  type Command,
} from '../../domain';
import { modifiedTime, readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { probe } from '../../adapters/process';
import { configuredMembers } from '../configured';
import { runMonorepo } from '../monorepo';
import { ExecutorError, type LocatedUnikernel } from '../shared';

/**
 * The dune root's lock, with the dune root lock held and its root files in place: configures the unikernels
 * whose configuration is missing or stale, then runs `opam monorepo lock` once over all of them
 * (mirage-skeleton's way, scope "workspace") or once per unikernel (mirage's Makefile, scope "unikernel"),
 * skipped while a lockfile was locked from the same opam files. A unikernel that cannot be configured is
 * reported and left out; the others are locked. Returns false when opam-monorepo failed (it said why), and
 * "nothing" when the dune root has no unikernel.
 */
export async function lockDuneRoot(context: ExecutorContext, duneRoot: string, root: string, scope: 'workspace' | 'unikernel', force: boolean): Promise<boolean | 'nothing'> {
  const { members, problems } = await configuredMembers(context, duneRoot, root);
  for (const p of problems) logger.warn(`nx-mirage: ${p}`);
  if (members.length === 0) {
    if (problems.length > 0) throw new ExecutorError('No unikernel of the dune root could be configured, so there is nothing to lock; fix the config.ml files above.');
    logger.info('nx-mirage: the dune root has no unikernel to lock.');
    return 'nothing';
  }
  const groups: Array<{ lock: string; members: LocatedUnikernel[]; command: (ocaml: string) => Command }> =
    scope === 'workspace'
      ? [{ lock: WORKSPACE_LOCK_FILE, members, command: (ocaml) => workspaceLockCommand(members, ocaml) }]
      : members.map((u) => ({ lock: lockFile(u), members: [u], command: (ocaml) => lockCommand(u, ocaml) }));
  let ocamlVersion: string | undefined;
  for (const group of groups) {
    const opamTexts: string[] = [];
    let newestOpam = 0;
    for (const u of group.members) {
      const path = join(root, opamFile(u));
      const text = await readTextIfExists(path);
      if (text === undefined) throw new ExecutorError(`${inDir(duneRoot, opamFile(u))} disappeared while locking; run the lock again`);
      opamTexts.push(text);
      newestOpam = Math.max(newestOpam, (await modifiedTime(path)) ?? 0);
    }
    const digest = lockInputsDigest(opamTexts);
    const lockPath = join(root, group.lock);
    const current = await readTextIfExists(lockPath);
    if (!force && current !== undefined) {
      const recorded = lockedFrom(current);
      // Locked from these very opam files (content), or, for a lockfile nx-mirage did not write, newer than them (mirage's Makefile rule).
      const fresh = recorded !== undefined ? recorded === digest : ((await modifiedTime(lockPath)) ?? 0) >= newestOpam;
      if (fresh) {
        logger.info(`${inDir(duneRoot, group.lock)} is up to date with the opam files; use --force to lock again.`);
        continue;
      }
    }
    ocamlVersion ??= await probe('ocamlc', ['-version'], root);
    if (!ocamlVersion) {
      throw new ExecutorError('`ocamlc -version` failed: locking needs the OCaml compiler of the switch. Install one with: opam switch create . 4.14.2 (or: apt-get install ocaml-nox)');
    }
    if (!(await runMonorepo(group.command(ocamlVersion), root, 'lock'))) return false;
    const written = await readTextIfExists(lockPath);
    if (written === undefined) throw new ExecutorError(`opam monorepo lock succeeded but wrote no ${inDir(duneRoot, group.lock)}`);
    await writeFileAtomically(lockPath, recordLockedFrom(written, digest));
    // The closures the view recorded stay until the next pull works them out again from the new sources.
    const viewPath = lockVersionsJsonPath(lockPath);
    await writeFileAtomically(viewPath, lockVersionsJson(readOpamLockfile(written), readLockClosures((await readTextIfExists(viewPath)) ?? '')));
  }
  return true;
}
