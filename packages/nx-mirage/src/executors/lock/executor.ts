import type { ExecutorContext } from '@nx/devkit';
import { logger } from '@nx/devkit';
import { join } from 'node:path';
import { lockCommand, lockFile, opamFile } from '../../domain';
import { modifiedTime } from '../../adapters/files';
import { probe, runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { schema, type Options } from './schema';

/** `opam monorepo lock`, skipped like mirage's Makefile rule while the lockfile is newer than the opam file. */
export default async function lockExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'lock');
    const unikernel = unikernelOf(context, options);
    const opam = await modifiedTime(join(unikernel.root, opamFile(unikernel)));
    if (opam === undefined) {
      throw new ExecutorError(`${opamFile(unikernel)} does not exist: configure the unikernel first (nx run ${context.projectName}:configure)`);
    }
    const lock = await modifiedTime(join(unikernel.root, lockFile(unikernel)));
    if (!options.force && lock !== undefined && lock >= opam) {
      logger.info(`${lockFile(unikernel)} is up to date (newer than ${opamFile(unikernel)}); use --force to lock again.`);
      return true;
    }
    const ocamlVersion = await probe('ocamlc', ['-version'], unikernel.root);
    if (!ocamlVersion) throw new ExecutorError('`ocamlc -version` failed: the OCaml compiler is needed to lock for its version. Install it with: opam switch create . 4.14.2 (or: apt-get install ocaml-nox)');
    const result = await runCommand(lockCommand(unikernel, ocamlVersion), { cwd: unikernel.root, purpose: 'to lock dependencies with opam-monorepo' });
    return result.exitCode === 0;
  });
}
