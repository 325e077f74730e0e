// Runs after tsc, on the compiled files in dist/: writes each executor's and generator's schema.json (read by
// Nx and Nx Console) from its zod schema, so options are defined once, and copies generator templates.
'use strict';
const { cpSync, existsSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { z } = require('zod');

const pkg = join(__dirname, '..');

for (const kind of ['executors', 'generators']) {
  const root = join(pkg, 'dist', 'src', kind);
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root)) {
    const module = join(root, name, 'schema.js');
    if (!existsSync(module)) continue;
    const schema = Object.values(require(module)).find((v) => v && typeof v === 'object' && '_zod' in v);
    if (!schema) throw new Error(`${module} exports no zod schema`);
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    delete json.$schema;
    const out = { $schema: 'https://json-schema.org/schema', version: 2, title: `nx-mirage:${name}`, cli: 'nx', ...json };
    writeFileSync(join(root, name, 'schema.json'), JSON.stringify(out, null, 2) + '\n');
    const files = join(pkg, 'src', kind, name, 'files');
    if (existsSync(files)) cpSync(files, join(root, name, 'files'), { recursive: true });
  }
}
