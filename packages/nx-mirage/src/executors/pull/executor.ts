import type { ExecutorContext } from '@nx/devkit';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { logger } from '../log';
import {
  DEPENDS_ENV,
  PULLED_FROM,
  WORKSPACE_LOCK_FILE,
  dependsStampFiles,
  dependsStampId,
  dependsStampPath,
  inDir,
  lockClosures,
  lockVersionsJson,
  lockVersionsJsonPath,
  opamDependencies,
  pullCommand,
  pullsOf,
  readOpamLockfile,
  sha256,
  switchPackagesOfLockfile,
  workspacePullCommand,
} from '../../domain';
import { exists, readTextIfExists, writeFileAtomically } from '../../adapters/files';
import { duneRootView, located } from '../model';
import { runMonorepo } from '../monorepo';
import { observeStamp, writeStamp } from '../../adapters/stamp';
import { prepareDuneRoot, underDuneRootLock } from '../dune-root';
import { lockDuneRoot } from '../lock/lock-dune-root';
import { ExecutorError, guarded, parseOptions } from '../shared';
import { schema, type Options } from './schema';

/**
 * Records in the lockfile's JSON view each unikernel's locked dependency closure, read from the opam files of
 * the sources just pulled, so that `nx affected` follows a bump of a package a unikernel uses only through
 * others (see lockClosures).
 */
async function recordClosures(root: string, unikernels: ReadonlyArray<{ name: string; packages: readonly string[] }>): Promise<void> {
  const lock = await readTextIfExists(join(root, WORKSPACE_LOCK_FILE));
  if (lock === undefined) return;
  const depsOf: Record<string, string[]> = {};
  for (const dir of await readdir(join(root, 'duniverse')).catch(() => [] as string[])) {
    for (const file of await readdir(join(root, 'duniverse', dir)).catch(() => [] as string[])) {
      if (!file.endsWith('.opam')) continue;
      depsOf[file.slice(0, -'.opam'.length)] = opamDependencies((await readTextIfExists(join(root, 'duniverse', dir, file))) ?? '');
    }
  }
  const viewPath = join(root, lockVersionsJsonPath(WORKSPACE_LOCK_FILE));
  const view = lockVersionsJson(readOpamLockfile(lock), lockClosures(unikernels, readOpamLockfile(lock), switchPackagesOfLockfile(lock), depsOf));
  if ((await readTextIfExists(viewPath)) !== view) await writeFileAtomically(viewPath, view);
}

/**
 * Everything a build needs from opam-monorepo, for the whole dune root: configures what is stale and locks
 * (lockDuneRoot), then `opam monorepo pull` of the dune root's lockfile into its duniverse/ (scope
 * "workspace"), or of each unikernel's lockfile into its own duniverse/ (scope "unikernel"), skipped while
 * duniverse/ already holds the sources of that lockfile. Then it stamps what it read and left (the target is
 * cached under that stamp: a run in which none of it changed starts no process for it).
 */
export default async function pullExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'pull');
    const root = resolve(context.root, options.duneRoot);
    const view = duneRootView(context, options.duneRoot);
    const pulls = pullsOf(view.unikernels, options.scope).map((p) => ({
      ...p,
      command: p.unikernel ? pullCommand(located(context, options.duneRoot, p.unikernel), root) : workspacePullCommand(root),
    }));
    return underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      const locked = await lockDuneRoot(context, options.duneRoot, root, options.scope, false);
      if (locked === false) return false;
      if (locked === 'nothing') return true;
      const present: typeof pulls = [];
      for (const p of pulls) if (await exists(join(root, p.lock))) present.push(p);
      if (present.length === 0) throw new ExecutorError(`opam monorepo lock left no lockfile in ${options.duneRoot}: run nx run ${context.projectName}:lock --force`);
      for (const p of present) {
        const digest = sha256(await readFile(join(root, p.lock)));
        const marker = join(root, p.duniverse, PULLED_FROM);
        if ((await readTextIfExists(marker))?.trim() === digest) {
          logger.info(`${inDir(options.duneRoot, p.duniverse)}/ already holds the sources of ${inDir(options.duneRoot, p.lock)}.`);
          continue;
        }
        if (!(await runMonorepo(p.command, root, 'pull'))) return false;
        await writeFileAtomically(marker, `${digest}\n`);
      }
      if (options.scope === 'workspace') await recordClosures(root, view.unikernels);
      const files = dependsStampFiles(view.unikernels, options.scope).map((f) => join(root, f));
      await writeStamp(context.root, dependsStampPath(dependsStampId(options.duneRoot)), await observeStamp(`depends ${options.duneRoot}`, files, process.env, DEPENDS_ENV));
      return true;
    });
  }, context);
}
