// Lint configuration of the whole repository. The layering rules keep the plugin's three layers apart:
// domain (MirageOS/dune/Solo5 knowledge) imports neither Nx nor processes, adapters do not import Nx.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nxImports = [
  { group: ['nx', 'nx/*', '@nx/*'], message: 'Only the Nx surface (plugins, executors, generators) may import Nx.' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/tmp/**', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/nx-mirage/src/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...nxImports,
            { group: ['execa', 'fast-glob', 'node:child_process', 'node:fs', 'node:fs/*', 'fs', 'child_process'], message: 'The domain layer does no I/O: use an adapter.' },
            { group: ['../adapters/*', '../plugins/*', '../executors/*', '../generators/*', '../../*'], message: 'The domain layer depends on nothing else in the plugin.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/nx-mirage/src/adapters/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...nxImports, { group: ['../plugins/*', '../executors/*', '../generators/*'], message: 'Adapters do not depend on the Nx surface.' }] },
      ],
    },
  },
);
