import { z } from 'zod';

export const schema = z.strictObject({
  unikernels: z
    .string()
    .optional()
    .describe('Digest of the workspace unikernels and their targets: adding, removing or retargeting one changes every toolchain key; set by the plugin'),
});
export type Options = z.input<typeof schema>;
