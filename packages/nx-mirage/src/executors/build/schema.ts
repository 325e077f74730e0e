import { z } from 'zod';
import { artifactFileName } from '../../domain';
import { configureFlagsOption, unikernelOptions } from '../shared';

/**
 * A unikernel build (name, target, artifact) or a library build (dir): both kinds are one executor, so that Nx
 * hands the library builds of a run and the unikernel builds that use them to one batch (one dune call).
 */
export const schema = z
  .strictObject({
    name: unikernelOptions.name.optional(),
    target: unikernelOptions.target.optional(),
    duneRoot: unikernelOptions.duneRoot,
    artifact: z.string().optional().describe('The artifact file name in dist/, derived from name and target; set by the plugin'),
    configureFlags: configureFlagsOption,
    dir: z.string().min(1).optional().describe('For a library build instead of a unikernel: the library directory, relative to the dune root; set by the plugin'),
  })
  .superRefine((o, ctx) => {
    const unikernelFields = ['name', 'target', 'artifact'] as const;
    if (o.dir !== undefined) {
      for (const f of unikernelFields) {
        if (o[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `is for a unikernel build, but "dir" makes this a library build; remove one of them` });
      }
      return;
    }
    for (const f of unikernelFields) {
      if (o[f] === undefined) ctx.addIssue({ code: 'custom', path: [f], message: `is required for a unikernel build (a library build sets "dir" instead); set by the plugin, so check the build target in project.json` });
    }
    if (o.name === undefined || o.target === undefined || o.artifact === undefined) return;
    const expected = artifactFileName(o.name, o.target);
    if (o.artifact !== expected) {
      ctx.addIssue({ code: 'custom', path: ['artifact'], message: `is ${JSON.stringify(o.artifact)}, but a ${o.target} build of "${o.name}" produces ${JSON.stringify(expected)}; it is derived from name and target, remove it from your overrides` });
    }
  })
  .describe('Build the unikernel with dune in its build context, or a library directory in the contexts of the unikernels that use it');

export type BuildOptions = z.input<typeof schema>;
export type ParsedBuildOptions = z.output<typeof schema>;
