// Runs after tsc, on the compiled files in dist/: writes each executor's and generator's schema.json (read by
// Nx and Nx Console) from the `schema` export of its schema module, so options are defined once, and copies
// generator templates. e2e/src/schemas.spec.ts checks every shipped schema.json against the zod schema.
'use strict';
const { cpSync, existsSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const pkg = join(__dirname, '..');
const { schemaJson } = require(join(pkg, 'dist', 'src', 'utils', 'schema-json.js'));

for (const [kind, file, field] of [['executors', 'executors.json', 'implementation'], ['generators', 'generators.json', 'factory']]) {
  const entries = JSON.parse(readFileSync(join(pkg, file), 'utf8'))[kind];
  for (const [name, entry] of Object.entries(entries)) {
    const dir = join(pkg, dirname(entry[field]));
    const module = join(dir, 'schema.js');
    if (!existsSync(module)) throw new Error(`${file}: ${name} has no compiled schema module ${module}`);
    const out = schemaJson(`nx-mirage:${name}`, require(module).schema);
    writeFileSync(join(pkg, entry.schema), JSON.stringify(out, null, 2) + '\n');
    const files = join(pkg, 'src', kind, name, 'files');
    if (existsSync(files)) cpSync(files, join(dir, 'files'), { recursive: true });
  }
}
