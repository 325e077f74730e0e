import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { guarded, parseOptions } from '../shared';
import { reportToolchain } from './report';
import { schema, type Options } from './schema';

/** Resolves the OCaml toolchain (managed switch or PATH), prints its key and versions, writes its record (and its stamp). */
export default async function toolchainExecutor(raw: Options, context: ExecutorContext) {
  return guarded(async () => {
    parseOptions(schema, raw, 'toolchain');
    logger.info((await reportToolchain(context)).trimEnd());
    return true;
  });
}
