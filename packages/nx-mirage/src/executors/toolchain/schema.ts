import { z } from 'zod';

export const schema = z.strictObject({});
export type Options = z.input<typeof schema>;
