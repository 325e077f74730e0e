// Runs before `npm pack`: the package's README is the repository README's introduction and usage sections,
// so the documentation npm shows is written once and never falls behind. Sections about developing
// nx-mirage itself (the two commands, the example workspace, performance, layout, tests) stay out.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const source = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
const section = (text, heading) => {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const level = heading.split(' ')[0];
  const rest = text.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return { start, end: next < 0 ? text.length : start + heading.length + 2 + next };
};
const intro = source.slice(0, section(source, '## Two commands').start);
const usage = section(source, '## Usage');
let body = source.slice(usage.start, usage.end);
const example = section(body, '### The example workspace');
body = body.slice(0, example.start) + body.slice(example.end);
writeFileSync(
  join(__dirname, '..', 'README.md'),
  `${intro.trimEnd()}\n${body.trimEnd()}\n\nPerformance figures, the example workspace and how to develop nx-mirage: see the repository README.\n`,
);
