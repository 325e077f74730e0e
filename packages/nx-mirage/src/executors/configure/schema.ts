import { z } from 'zod';
import { unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    configureFlags: z
      .array(z.string(), { error: 'must be a list of mirage configure flags, for example ["--no-dhcp"]' })
      .default([])
      .describe('Extra flags for mirage configure, after -f and -t'),
  })
  .describe('Run mirage configure for the unikernel, from the dune root');

export type ConfigureOptions = z.input<typeof schema>;
