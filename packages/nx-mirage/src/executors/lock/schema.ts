import { z } from 'zod';
import { duneRootOption, lockScopeOption } from '../shared';

export const schema = z
  .strictObject({
    duneRoot: duneRootOption,
    scope: lockScopeOption,
    unikernels: z.string({ error: 'must be a string' }).optional().describe('Digest of the unikernels (directory, target, configure flags) the cached task works on; set by the plugin, part of its key only'),
    force: z.boolean({ error: 'must be true or false' }).default(false).describe('Lock again even when the lockfile was locked from the same opam files'),
  })
  .describe("Configure what is not configured, then lock the dune root's unikernels with opam-monorepo");
export type Options = z.input<typeof schema>;
