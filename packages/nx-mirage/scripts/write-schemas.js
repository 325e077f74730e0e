// Writes each executor's and generator's schema.json (read by Nx and Nx Console) from its zod schema, so options are defined once.
// Runs after tsc, on the compiled files in dist/.
'use strict';
const { readdirSync, writeFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { z } = require('zod');

for (const kind of ['executors', 'generators']) writeSchemas(kind);

function writeSchemas(kind) {
const root = join(__dirname, '..', 'dist', 'src', kind);
if (!existsSync(root)) return;
for (const name of readdirSync(root)) {
  const module = join(root, name, 'schema.js');
  if (!existsSync(module)) continue;
  const schema = Object.values(require(module)).find((v) => v && typeof v === 'object' && '_zod' in v);
  if (!schema) throw new Error(`${module} exports no zod schema`);
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  delete json.$schema;
  const out = {
    $schema: 'https://json-schema.org/schema',
    version: 2,
    title: `nx-mirage:${name}`,
    cli: 'nx',
    ...json,
  };
  writeFileSync(join(root, name, 'schema.json'), JSON.stringify(out, null, 2) + '\n');
}
}
