import { z } from 'zod';
import { duneRootOption, lockScopeOption } from '../shared';

export const schema = z
  .strictObject({ duneRoot: duneRootOption, scope: lockScopeOption })
  .describe('Vendor the locked sources into duniverse/ with opam-monorepo');
export type Options = z.input<typeof schema>;
