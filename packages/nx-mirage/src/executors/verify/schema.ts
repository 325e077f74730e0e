import { z } from 'zod';
import { configureFlagsOption, unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    artifact: z.string().optional().describe("The artifact's file name in dist/; by default the target's (NAME.hvt for hvt, NAME for unix)"),
    configureFlags: configureFlagsOption,
  })
  .describe('Build the unikernel twice from scratch (separate build directories, no dune or Nx cache) and compare the artifacts');

export type VerifyOptions = z.input<typeof schema>;
