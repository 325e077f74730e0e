import { z } from 'zod';
import { configureFlagsOption, unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    configureFlags: configureFlagsOption,
  })
  .describe('Run mirage configure for the unikernel, from the dune root');

export type ConfigureOptions = z.input<typeof schema>;
