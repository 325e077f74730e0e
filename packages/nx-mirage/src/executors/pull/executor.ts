import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WORKSPACE_LOCK_FILE, lockFile, pullCommand, sha256, workspacePullCommand } from '../../domain';
import { modifiedTime, readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { withDuneRootLock } from '../../adapters/lock';
import { runCommand } from '../../adapters/process';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { schema, type Options } from './schema';

/** Records which lockfile a shared duniverse/ was pulled from, so the other unikernels' pulls skip it. */
const PULLED_FROM = '.nx-mirage-pulled-from';

/** `opam monorepo pull` into DIR/duniverse/ (or the dune root's duniverse/ with scope "workspace"). */
export default async function pullExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'pull');
    const unikernel = unikernelOf(context, options);
    const lock = options.scope === 'workspace' ? WORKSPACE_LOCK_FILE : lockFile(unikernel);
    if ((await modifiedTime(join(unikernel.root, lock))) === undefined) {
      throw new ExecutorError(`${lock} does not exist: lock the dependencies first (nx run ${context.projectName}:lock)`);
    }
    const purpose = 'to vendor dependencies (opam monorepo needs opam-monorepo: opam install opam-monorepo)';
    if (options.scope === 'unikernel') {
      return (await runCommand(pullCommand(unikernel, unikernel.root), { cwd: unikernel.root, purpose })).exitCode === 0;
    }
    return withDuneRootLock(unikernel.root, async () => {
      const digest = sha256(await readFile(join(unikernel.root, lock)));
      const marker = join(unikernel.root, 'duniverse', PULLED_FROM);
      if ((await readTextIfExists(marker))?.trim() === digest) {
        logger.info(`duniverse/ already holds the sources of ${lock}.`);
        return true;
      }
      const result = await runCommand(workspacePullCommand(unikernel.root), { cwd: unikernel.root, purpose });
      if (result.exitCode !== 0) return false;
      await writeFileAtomically(marker, `${digest}\n`);
      return true;
    });
  }, context);
}
