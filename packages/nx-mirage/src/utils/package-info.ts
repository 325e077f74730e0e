import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: { name: string; version: string } | undefined;

/** nx-mirage's own package.json, found by walking up from this file (works from src/ and dist/). */
export function packageInfo(): { name: string; version: string } {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nx-mirage') return (cached = { name: pkg.name, version: pkg.version ?? '0.0.0' });
    }
    if (dirname(dir) === dir) throw new Error(`nx-mirage: cannot find its package.json above ${__dirname}`);
  }
}
