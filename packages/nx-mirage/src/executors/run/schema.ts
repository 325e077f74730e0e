import { z } from 'zod';
import { unikernelOptions } from '../shared';

const devices = (option: 'net' | 'block', what: string, example: string) =>
  z
    .record(z.string(), z.string(), { error: `must map device names to ${what}, for example --${option}.${example}` })
    .default({})
    .describe(`${what} by device name, as the manifest names the devices: --${option}.${example}`);

/** What the unikernel runs with: `run` and `serve` take the same. */
export const runtimeOptions = {
  memory: z.number({ error: 'must be a number of MiB' }).int().positive({ error: 'must be a positive number of MiB' }).optional().describe('Memory in MiB'),
  net: devices('net', 'host network interfaces (taps)', 'service=tap0'),
  block: devices('block', 'files or block devices', 'storage=disk.img'),
  args: z.array(z.string(), { error: 'must be a list of runtime arguments, for example ["--hello=world"]' }).default([]).describe('Runtime arguments of the unikernel, after the kernel path'),
  tenderArgs: z.array(z.string(), { error: 'must be a list of arguments, for example ["--dumpcore=/tmp"]' }).default([]).describe('Extra arguments for the program that runs the unikernel, before the kernel path'),
};

export const schema = z
  .strictObject({
    ...unikernelOptions,
    artifact: z.string().optional().describe("The artifact's file name in dist/; by default the target's (NAME.hvt for hvt, NAME for unix)"),
    ...runtimeOptions,
  })
  .describe('Run the built unikernel with the program its ABI needs');

export type RunOptions = z.input<typeof schema>;
