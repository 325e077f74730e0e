import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { cleanSet } from '../../domain';
import { removeMatching } from '../../adapters/remove-matching';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { schema, type Options } from './schema';

/**
 * Removes what configure and build made for this unikernel only: generated dune and mirage files, the
 * artifacts in dist/ and its objects in every dune context. Unlike `mirage clean` it keeps the lockfile,
 * duniverse/ and other unikernels' builds (mirage clean runs `dune clean`, which wipes all of _build).
 */
export default async function cleanExecutor(raw: Options, context: ExecutorContext) {
  // Without the toolchain: cleaning runs no tool, and must work before (or without) one.
  return guarded(async () => {
    const unikernel = unikernelOf(context, parseOptions(schema, raw, 'clean'));
    const { globs, buildFiles, paths } = cleanSet(unikernel);
    const { removed, outside } = await removeMatching(context.root, unikernel.root, unikernel.dir, globs, buildFiles, paths);
    logger.info(removed.length ? `Removed ${removed.length} path(s) of ${unikernel.name}.` : `Nothing to clean for ${unikernel.name}.`);
    if (outside.length) {
      logger.warn(`nx-mirage: left ${outside.join(', ')} alone: ${outside.length === 1 ? 'it lies' : 'they lie'} outside the workspace through a link, and clean removes only what is inside.`);
    }
    return true;
  });
}
