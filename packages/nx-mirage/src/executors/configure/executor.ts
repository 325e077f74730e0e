import type { ExecutorContext } from '@nx/devkit';
import { guarded, parseOptions, unikernelOf } from '../shared';
import { configureUnikernels } from './configure-unikernels';
import { schema as configureSchema, type ConfigureOptions } from './schema';

/** `mirage configure -f DIR/config.ml -t TARGET` from the dune root, for one unikernel. */
export default async function configureExecutor(raw: ConfigureOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(configureSchema, raw, 'configure');
    const request = { id: 'configure', unikernel: unikernelOf(context, options), duneRoot: options.duneRoot, flags: options.configureFlags };
    const outcomes = await configureUnikernels([request], context, false);
    return outcomes.get('configure')?.success ?? false;
  }, context);
}
