import { z } from 'zod';
import { duneRootOption, lockScopeOption } from '../shared';

export const schema = z
  .strictObject({
    duneRoot: duneRootOption,
    scope: lockScopeOption,
    force: z.boolean({ error: 'must be true or false' }).default(false).describe('Lock again even when the lockfile was locked from the same opam files'),
  })
  .describe("Configure what is not configured, then lock the dune root's unikernels with opam-monorepo");
export type Options = z.input<typeof schema>;
