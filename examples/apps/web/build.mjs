// Builds the static site into dist/ (a stand-in for any web build: vite, webpack, ...).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const page = readFileSync(new URL('./src/index.html', import.meta.url), 'utf8');
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('./dist/index.html', import.meta.url), page.replace('%BUILT_BY%', 'nx run web:build'));
