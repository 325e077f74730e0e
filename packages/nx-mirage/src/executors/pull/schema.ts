import { z } from 'zod';
import { duneRootOption, lockScopeOption } from '../shared';

export const schema = z
  .strictObject({
    duneRoot: duneRootOption,
    scope: lockScopeOption,
    unikernels: z.string({ error: 'must be a string' }).optional().describe('Digest of the unikernels (directory, target, configure flags) the cached task works on; set by the plugin, part of its key only'),
  })
  .describe('Configure what is stale, lock, and vendor the locked sources into duniverse/ with opam-monorepo');
export type Options = z.input<typeof schema>;
