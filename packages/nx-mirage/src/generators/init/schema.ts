import { z } from 'zod';

export const initSchema = z
  .strictObject({
    skipFormat: z.boolean().default(false).describe('Skip formatting files'),
    skipPackageJson: z.boolean().default(false).describe('Do not add nx-mirage to devDependencies'),
    keepExistingVersions: z.boolean().default(true).describe('Keep versions of packages already in package.json'),
  })
  .describe('Register nx-mirage in nx.json and set up the dune root for MirageOS unikernels');

export type InitOptions = z.input<typeof initSchema>;
