import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { prepareDuneRoot, underDuneRootLock } from '../dune-root';
import { guarded, parseOptions } from '../shared';
import { lockDuneRoot } from './lock-dune-root';
import { schema, type Options } from './schema';

/** `nx run @nx-mirage:lock`: configure what is stale and lock the dune root (see lockDuneRoot); --force locks again. */
export default async function lockExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(schema, raw, 'lock');
    const root = resolve(context.root, options.duneRoot);
    return underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      return (await lockDuneRoot(context, options.duneRoot, root, options.scope, options.force)) !== false;
    });
  }, context);
}
