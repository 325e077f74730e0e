import { z } from 'zod';

export const schema = z.strictObject({}).describe('Keep the root dune-project and dune-workspace in step with the mirage targets in use');
