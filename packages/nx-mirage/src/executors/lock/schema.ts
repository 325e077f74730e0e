import { z } from 'zod';
import { unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    force: z.boolean({ error: 'must be true or false' }).default(false).describe('Lock again even when the lockfile is newer than the opam file'),
  })
  .describe('Lock the unikernel dependencies with opam-monorepo');
export type Options = z.input<typeof schema>;
