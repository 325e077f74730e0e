import { z } from 'zod';

export const schema = z
  .strictObject({
    skipFormat: z.boolean().default(false).describe('Skip formatting files'),
    skipPackageJson: z.boolean().default(false).describe('Do not add nx-mirage to devDependencies'),
    toolchain: z
      .enum(['auto', 'managed', 'path'], { error: 'must be "auto" (tools on PATH, else a managed opam switch), "managed" or "path"' })
      .default('auto')
      .describe('Where the OCaml toolchain comes from, for a new registration: "auto" uses the tools on PATH and creates a managed opam switch when they are missing'),
    keepExistingVersions: z.boolean().default(true).describe('Keep versions of packages already in package.json'),
  })
  .describe('Register nx-mirage in nx.json and set up the dune root for MirageOS unikernels');

export type InitOptions = z.input<typeof schema>;
