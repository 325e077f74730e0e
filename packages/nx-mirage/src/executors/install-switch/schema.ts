import { z } from 'zod';
import { duneRootOption } from '../shared';

export const schema = z
  .strictObject({ duneRoot: duneRootOption })
  .describe("Install the switch tools of the dune root's unikernels with opam");
export type Options = z.input<typeof schema>;
