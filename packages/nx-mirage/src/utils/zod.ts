import type { z } from 'zod';

/**
 * One line per problem, each naming the option by its path: `  - "target": must be a mirage target, ...`.
 * zod reports unknown keys on the parent object, so those lines name the unknown keys and list the allowed ones.
 */
export function formatZodError(error: z.ZodError, allowedKeysAt?: (path: readonly PropertyKey[]) => readonly string[] | undefined): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const where = path ? ` in "${path}"` : '';
        const allowedKeys = allowedKeysAt?.(issue.path);
        const allowed = allowedKeys ? `; allowed: ${allowedKeys.join(', ')}` : '';
        return `  - unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${where}${allowed}`;
      }
      return `  - ${path ? `"${path}"` : 'options'}: ${issue.message}`;
    })
    .join('\n');
}
