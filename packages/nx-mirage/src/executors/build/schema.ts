import { z } from 'zod';
import { artifactFileName } from '../../domain';
import { configureFlagsOption, unikernelOptions } from '../shared';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    artifact: z.string().describe('The artifact file name in dist/, derived from name and target; set by the plugin'),
    configureFlags: configureFlagsOption,
  })
  .superRefine((o, ctx) => {
    const expected = artifactFileName(o.name, o.target);
    if (o.artifact !== expected) {
      ctx.addIssue({ code: 'custom', path: ['artifact'], message: `is ${JSON.stringify(o.artifact)}, but a ${o.target} build of "${o.name}" produces ${JSON.stringify(expected)}; it is derived from name and target, remove it from your overrides` });
    }
  })
  .describe('Build the unikernel with dune in its build context');

export type BuildOptions = z.input<typeof schema>;
