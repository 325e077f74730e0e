import { z } from 'zod';

export const schema = z
  .strictObject({
    name: z
      .string({ error: 'is required: the library name, for example "shared"' })
      .regex(/^[a-z][a-z0-9_]*$/, {
        error: (i) => `${JSON.stringify(i.input)} is not an OCaml library name: use lowercase letters, digits and "_", starting with a letter`,
      })
      .meta({ description: 'The dune library name', $default: { $source: 'argv', index: 0 }, 'x-prompt': 'What name would you like to use for the library?' }),
    directory: z.string().optional().meta({ description: 'Directory of the library, relative to the workspace root (default: libs/NAME)' }),
    unikernel: z
      .string()
      .optional()
      .meta({ description: 'A unikernel (by name) whose config.ml gets the library in ~local_libs', 'x-prompt': 'Which unikernel should use the library? (leave empty for none)' }),
    skipFormat: z.boolean().default(false).describe('Skip formatting files'),
  })
  .describe('Generate an OCaml library that unikernels use through local_libs');

export type LibraryOptions = z.input<typeof schema>;
