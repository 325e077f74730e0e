import { z } from 'zod';

export const schema = z
  .strictObject({
    dir: z.string().describe('The directory, relative to the dune root; set by the plugin'),
    duneRoot: z.string().default('.').describe('The dune root, relative to the workspace root; set by the plugin'),
    action: z
      .enum(['build', 'test', 'format'], { error: 'must be "build", "test" or "format"' })
      .describe('build: the default alias in the host context; test: runtest; format: dune @fmt with promotion'),
  })
  .describe('Run dune for an OCaml library directory in the dune root');

export type DuneOptions = z.input<typeof schema>;
