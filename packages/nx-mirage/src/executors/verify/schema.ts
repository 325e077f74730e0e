import { z } from 'zod';
import { configureFlagsOption, unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    artifact: z.string().describe('The artifact file name; set by the plugin'),
    configureFlags: configureFlagsOption,
  })
  .describe('Build the unikernel twice from scratch (separate build directories, no dune or Nx cache) and compare the artifacts');

export type VerifyOptions = z.input<typeof schema>;
