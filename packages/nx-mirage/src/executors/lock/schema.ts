import { z } from 'zod';
import { unikernelOptions } from '../shared';

export const lockScope = z
  .enum(['unikernel', 'workspace'], { error: 'must be "unikernel" or "workspace"' })
  .default('unikernel')
  .describe('One lockfile per unikernel, or one for all unikernels of the dune root; set by the plugin');

export const schema = z
  .strictObject({
    ...unikernelOptions,
    scope: lockScope,
    force: z.boolean({ error: 'must be true or false' }).default(false).describe('Lock again even when the lockfile is newer than the opam files'),
  })
  .describe('Lock the unikernel dependencies with opam-monorepo');
export type Options = z.input<typeof schema>;
