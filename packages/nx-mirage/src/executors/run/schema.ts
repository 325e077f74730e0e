import { z } from 'zod';
import { unikernelOptions } from '../shared';

export const runSchema = z
  .strictObject({
    ...unikernelOptions,
    artifact: z.string().describe('The artifact file name in dist/; set by the plugin'),
    tenderArgs: z.array(z.string(), { error: 'must be a list of arguments for the tender, for example ["--mem=64"]' }).default([]).describe('Arguments for the program that runs the unikernel (solo5-hvt, solo5-spt, ...), before the kernel path'),
    args: z.array(z.string(), { error: 'must be a list of runtime arguments, for example ["--hello=world"]' }).default([]).describe('Runtime arguments of the unikernel, after the kernel path'),
  })
  .describe('Run the built unikernel');

export type RunOptions = z.input<typeof runSchema>;
