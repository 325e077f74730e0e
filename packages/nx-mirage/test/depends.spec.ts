import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import configureExecutor from '../src/executors/configure/executor';
import lockExecutor from '../src/executors/lock/executor';
import pullExecutor from '../src/executors/pull/executor';
import installSwitchExecutor from '../src/executors/install-switch/executor';
import buildExecutor from '../src/executors/build/executor';
import { createOfflineOpam, type OfflineOpam } from './fixtures/standins/offline-opam';
import { MirageWorkspace } from './mirage-workspace';

let m: MirageWorkspace;
let opam: OfflineOpam;
let log: string;

function vendoredLibrary(name: string, text: string) {
  const dir = join(opam.sources, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dune'), `(library (name ${name}))\n`);
  writeFileSync(join(dir, `${name}.ml`), `let text = ${JSON.stringify(text)}\n`);
}

function unikernelUsing(dir: string, name: string, pkg: string) {
  m.ws.write(`${dir}/config.ml`, `open Mirage\nlet main = main "Unikernel" job ~packages:[ package "${pkg}" ]\nlet () = register "${name}" [ main ]\n`);
  m.ws.write(`${dir}/unikernel.ml`, `let start () = print_endline ${pkg[0]!.toUpperCase()}${pkg.slice(1)}.text\n`);
}

async function run<O>(executor: (o: O, c: ExecutorContext) => Promise<{ success: boolean }>, project: string, target: string, extra: object = {}) {
  const ctx = await m.context(project);
  return executor({ ...(ctx.projectsConfigurations.projects[project]!.targets![target]!.options as object), ...extra } as O, ctx);
}

const monorepoCalls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

function setup(lockScope: 'unikernel' | 'workspace') {
  m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { target: 'unix', lockScope } }] });
  opam = createOfflineOpam(m.ws.path('.opam'));
  log = m.ws.path('.opam-monorepo.log');
  m.activate({ ...opam.env, OPAM_MONOREPO_STANDIN_LOG: log });
  m.ws.write('.gitignore', '.toolchain\n_build\n.opam\n');
  vendoredLibrary('greeting', 'hello from a vendored library');
}

afterEach(() => m?.cleanup());

describe('depends with one lockfile per unikernel (mirage Makefile)', () => {
  beforeEach(() => setup('unikernel'));

  it('locks, installs switch tools, pulls into DIR/duniverse and builds with the vendored library', async () => {
    unikernelUsing('uk', 'uk', 'greeting');
    expect(await run(configureExecutor, 'uk', 'configure')).toEqual({ success: true });
    expect(await run(lockExecutor, 'uk', 'lock')).toEqual({ success: true });
    const lock = m.ws.read('uk/mirage/uk-unix.opam.locked');
    expect(lock).toContain('"greeting" {= "1.0.0" & ?vendor}');
    expect(monorepoCalls()[0]).toMatch(/^lock --require-cross-compile --build-only uk-unix -l uk\/mirage\/uk-unix.opam.locked --ocaml-version \d/);

    expect(await run(lockExecutor, 'uk', 'lock')).toEqual({ success: true });
    expect(monorepoCalls()).toHaveLength(1); // up to date: not locked again
    expect(await run(lockExecutor, 'uk', 'lock', { force: true })).toEqual({ success: true });
    expect(monorepoCalls()).toHaveLength(2);

    expect(await run(installSwitchExecutor, 'uk', 'install-switch')).toEqual({ success: true });
    expect(execFileSync('opam', ['list', '--installed', '--short', 'mirage'], { env: process.env, encoding: 'utf8' }).trim()).toBe('mirage');

    expect(await run(pullExecutor, 'uk', 'pull')).toEqual({ success: true });
    expect(existsSync(m.ws.path('uk/duniverse/greeting/greeting.ml'))).toBe(true);

    expect(await run(buildExecutor, 'uk', 'build')).toEqual({ success: true });
    expect(execFileSync(m.ws.path('uk/dist/uk'), { encoding: 'utf8' })).toBe('hello from a vendored library\n');
  });

  it('says what to run when there is nothing to lock or pull yet', async () => {
    unikernelUsing('uk', 'uk', 'greeting');
    expect(await run(lockExecutor, 'uk', 'lock')).toEqual({ success: false });
    expect(await run(pullExecutor, 'uk', 'pull')).toEqual({ success: false });
    expect(monorepoCalls()).toEqual([]);
  });
});

describe('depends with one lockfile for the workspace (mirage-skeleton)', () => {
  beforeEach(() => setup('workspace'));

  it('locks all unikernels together, pulls one duniverse once, and builds both', async () => {
    vendoredLibrary('farewell', 'bye from another vendored library');
    unikernelUsing('a', 'a', 'greeting');
    unikernelUsing('b', 'b', 'farewell');
    for (const p of ['a', 'b']) expect(await run(configureExecutor, p, 'configure')).toEqual({ success: true });
    expect(await run(lockExecutor, 'a', 'lock')).toEqual({ success: true });
    expect(await run(lockExecutor, 'b', 'lock')).toEqual({ success: true });
    expect(monorepoCalls()).toHaveLength(1);
    expect(monorepoCalls()[0]).toMatch(/^lock --recurse-opam a-unix b-unix --build-only --ocaml-version \S+ -l mirage.opam.locked$/);
    const lock = m.ws.read('mirage.opam.locked');
    expect(lock).toContain('"greeting" {= "1.0.0" & ?vendor}');
    expect(lock).toContain('"farewell" {= "1.0.0" & ?vendor}');
    // The JSON view of package versions that inputs select from (nx affected compares its fields).
    expect(JSON.parse(m.ws.read('mirage.opam.locked.json'))).toMatchObject({ farewell: '1.0.0', greeting: '1.0.0' });

    expect(await run(pullExecutor, 'a', 'pull')).toEqual({ success: true });
    expect(await run(pullExecutor, 'b', 'pull')).toEqual({ success: true });
    expect(monorepoCalls().filter((c) => c.startsWith('pull'))).toEqual([`pull -l mirage.opam.locked -r ${m.ws.root}`]);
    expect(existsSync(m.ws.path('duniverse/farewell/farewell.ml'))).toBe(true);

    for (const p of ['a', 'b']) expect(await run(buildExecutor, p, 'build')).toEqual({ success: true });
    expect(execFileSync(m.ws.path('b/dist/b'), { encoding: 'utf8' })).toBe('bye from another vendored library\n');
  });
});
