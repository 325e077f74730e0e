import { z } from 'zod';
import { configureFlagsOption, mirageTargetOption, unikernelOptions } from '../shared';
import { runtimeOptions } from '../run/schema';

export const schema = z
  .strictObject({
    ...unikernelOptions,
    configureFlags: configureFlagsOption,
    watch: z
      .array(z.string(), { error: 'must be a list of directories relative to the workspace root' })
      .default([])
      .describe('Directories whose changes rebuild the unikernel (its own, its local libraries, embedded data); set by the plugin'),
    serveTarget: mirageTargetOption
      .optional()
      .describe("The target to build and run; default: the unikernel's own where this machine runs it (unix, macosx; hvt with solo5-hvt and KVM; spt with solo5-spt), else unix"),
    debounce: z.number({ error: 'must be a number of milliseconds' }).int().min(0, { error: 'must be 0 or more milliseconds' }).default(25).describe('How long changes settle before a rebuild, in ms (an editor writes a saved file within a few ms; a change during a rebuild starts another)'),
    ...runtimeOptions,
  })
  .describe('Build the unikernel for a target this machine runs, run it, and rebuild and restart it when its sources change');

export type ServeOptions = z.input<typeof schema>;
