import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOLCHAIN_STAMP } from '../domain';
import { observeToolchainStamp, toolchainStampDigest, writeToolchainStamp } from './stamp';

let root: string;
let env: NodeJS.ProcessEnv;
const file = (name: string) => join(root, name);

async function stamp(files: string[]) {
  await writeToolchainStamp(root, await observeToolchainStamp('{"source":"path"}', files, env));
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'nx-mirage-stamp-'));
  mkdirSync(file('bin'));
  env = { PATH: file('bin') };
  writeFileSync(file('config.ml'), 'let () = ()\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('toolchain stamp', () => {
  it('has no digest before the toolchain task wrote one: each check is new, so the task runs', async () => {
    const [a, b] = [await toolchainStampDigest(root, env), await toolchainStampDigest(root, env)];
    expect(a).toMatch(/^changed /);
    expect(b).not.toBe(a);
  });

  it('gives the same digest while nothing it lists changed', async () => {
    await stamp([file('config.ml'), file('mirage')]);
    const first = await toolchainStampDigest(root, env);
    expect(first).toMatch(/^stamp [0-9a-f]{64}$/);
    expect(await toolchainStampDigest(root, env)).toBe(first);
  });

  it.each([
    ['a listed file is rewritten', () => writeFileSync(file('config.ml'), 'let () = print_endline "x"\n')],
    ['a listed file appears', () => mkdirSync(file('mirage'))],
    ['a listed file disappears', () => rmSync(file('config.ml'))],
    ['a tool appears on PATH', () => (writeFileSync(file('bin/mirage'), '#!/bin/sh\n'), chmodSync(file('bin/mirage'), 0o755))],
    ['an override is set', () => void (env['NX_MIRAGE_OPAM_REPOSITORY'] = 'https://mirror.example')],
    ['the stamp is not one nx-mirage wrote', () => writeFileSync(file(TOOLCHAIN_STAMP), '{"record": 1}')],
  ])('changes when %s', async (_what, change) => {
    await stamp([file('config.ml'), file('mirage')]);
    const before = await toolchainStampDigest(root, env);
    change();
    const after = await toolchainStampDigest(root, env);
    expect(after).toMatch(/^changed /);
    expect(after).not.toBe(before);
  });
});
