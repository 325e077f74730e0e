import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run bench`: not part of the test run. vitest only hosts the harness, so it can use the TypeScript
// test stand-ins; the harness measures with its own clock and prints the figures.
export default defineConfig({
  test: {
    include: ['tools/bench/*.bench-run.ts'],
    root: fileURLToPath(new URL('../..', import.meta.url)),
    environment: 'node',
    pool: 'forks',
    // The whole run is meant to take under 15 minutes on two cores; the limit is well above it.
    testTimeout: 45 * 60_000,
    hookTimeout: 45 * 60_000,
    globalSetup: ['tools/vitest-node-check.ts'],
  },
});
