import { z } from 'zod';
import { unikernelOptions } from '../shared';
import { lockScope } from '../lock/schema';

export const schema = z.strictObject({ ...unikernelOptions, scope: lockScope }).describe('Vendor locked sources with opam-monorepo');
export type Options = z.input<typeof schema>;
