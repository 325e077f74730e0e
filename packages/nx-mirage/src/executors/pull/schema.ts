import { z } from 'zod';
import { unikernelOptions } from '../shared';

export const schema = z.strictObject({ ...unikernelOptions });
export type Options = z.input<typeof schema>;
