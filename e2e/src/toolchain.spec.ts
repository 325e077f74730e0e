/**
 * The managed toolchain through real Nx: a workspace whose machine has OCaml, dune and opam but neither mirage
 * nor a solo5 toolchain. `nx run-many -t build` creates the managed switch (real opam 2.1 from a local file://
 * repository of fixture packages), builds with it, hits the cache without running opam again (the toolchain
 * task itself too, once nothing its record comes from changed), and updates the switch, and misses the
 * cache, when the key changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import { DUNE_SPY } from './standins';
import { createOpamSpy, createStandinRepository, type OpamSpy, type StandinRepository } from '../../packages/nx-mirage/test/fixtures/standins/offline-opam';

let ws: E2EWorkspace;
let repo: StandinRepository;
let env: Record<string, string>;
let spy: OpamSpy;
const opamCalls = () => spy.calls();

function unikernel(dir: string, name: string) {
  ws.write(`${dir}/config.ml`, `open Mirage\nlet main = main "Unikernel" job\nlet () = register "${name}" [ main ]\n`);
  ws.write(`${dir}/unikernel.ml`, `let start () = print_endline "${name}"\n`);
}

const nx = async (args: string[]) => (await ws.nxOk(args, env)).all;

beforeAll(async () => {
  ws = await E2EWorkspace.create({}, true);
  repo = createStandinRepository(join(ws.root, '..', 'opam-fixture'));
  ws.writeJson('nx.json', {
    plugins: [
      {
        plugin: 'nx-mirage',
        options: { monorepo: false, target: 'unix', toolchain: { mode: 'auto', compiler: 'ocaml-system', repositories: [{ name: 'fixture', url: repo.url }] } },
      },
    ],
    sync: { applyChanges: true },
  });
  spy = createOpamSpy(join(ws.root, '.opam-spy'));
  env = {
    PATH: [spy.bin, DUNE_SPY, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    DUNE_SPY_LOG: join(ws.root, '.dune-spy.log'),
    XDG_CACHE_HOME: join(ws.root, '.xdg-cache'),
    SOLO5_WRAPPER_LOG: repo.solo5.log,
    OCAMLFIND_CONF: '',
    OPAMROOT: '',
    OPAMSWITCH: '',
  };
  ws.write('.gitignore', 'node_modules\n.nx\n_build\n.nx-mirage\n.xdg-cache\n.dune-spy.log\n.opam-spy\n');
  unikernel('unikernels/hello', 'hello');
  await nx(['sync']);
  await ws.commit('unikernel');
});

afterAll(() => {
  ws?.cleanup();
  if (repo) rmSync(join(repo.dir, '..'), { recursive: true, force: true });
});

describe('managed toolchain in an Nx workspace', () => {
  it('is created before the first build, then reused from the cache without running opam', async () => {
    const first = await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    expect(first).toMatch(/nx-mirage toolchain: managed opam switch .* because toolchain\.mode is "auto" and `mirage` was not found on PATH/);
    expect(opamCalls().some((c) => c.startsWith('switch create'))).toBe(true);
    expect(execFileSync(join(ws.root, 'unikernels/hello/dist/hello'), { encoding: 'utf8' })).toBe('hello\n');
    const record = JSON.parse(ws.read('.nx-mirage/toolchain.json'));
    expect(record).toMatchObject({ source: 'managed', versions: { mirage: '4.11.1' } });
    expect(record.versions['solo5']).toBeUndefined();

    const calls = opamCalls().length;
    const second = await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    expect(second).toMatch(/hello:build.*\[local cache\]|existing outputs match the cache/);
    // The toolchain task ran again: the build had configured the unikernel since, writing the opam file the
    // switch requirements come from, so its stamp no longer held. Its record was unchanged: the build was a hit.
    expect(second).toMatch(/Nx read the output from the cache instead of running the command for 1 out of 2 tasks/);
    expect(second).toMatch(/@nx-mirage:toolchain\n[^]*nx-mirage toolchain: managed opam switch/);
    // Then the stamp holds: its key is new once more, and from the next run on the task is a hit too.
    await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    const fourth = await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    expect(fourth).toMatch(/Nx read the output from the cache instead of running the command for 2 out of 2 tasks/);
    expect(opamCalls()).toHaveLength(calls);
  });

  it('keys builds by the toolchain record: a new key is a miss although no source changed', async () => {
    // The same packages from another repository URL (a mirror): a new key, the same versions.
    const mirror = join(ws.root, '..', 'opam-mirror');
    execFileSync('cp', ['-r', repo.dir, mirror]);
    const before = JSON.parse(ws.read('.nx-mirage/toolchain.json'));
    const out = await ws.nx(['run-many', '-t', 'build', '--outputStyle=stream'], { ...env, NX_MIRAGE_OPAM_REPOSITORY: `file://${mirror}` });
    expect(out.exitCode).toBe(0);
    const after = JSON.parse(ws.read('.nx-mirage/toolchain.json'));
    expect(after.key).not.toBe(before.key);
    expect(after.versions).toEqual(before.versions);
    expect(out.all).not.toMatch(/hello:build.*\[local cache\]|existing outputs match the cache/);
    expect(out.all).toMatch(/Successfully ran target build for project hello/);
    // Back to the first repository: its key again, and the builds made with it come from the cache.
    const back = await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    expect(JSON.parse(ws.read('.nx-mirage/toolchain.json')).key).toBe(before.key);
    expect(back).toMatch(/Nx read the output from the cache instead of running the command for 1 out of 2 tasks/);
  });

  it('updates the switch when the key changes, and builds made with the old toolchain are not reused', async () => {
    unikernel('unikernels/kernel', 'kernel');
    const nxJson = JSON.parse(ws.read('nx.json'));
    nxJson.plugins[0].options.unikernels = { kernel: { target: 'hvt' } };
    ws.writeJson('nx.json', nxJson);
    const before = JSON.parse(ws.read('.nx-mirage/toolchain.json'));
    const calls = opamCalls().length;

    const out = await nx(['run-many', '-t', 'build', '--outputStyle=stream']);
    const newCalls = opamCalls().slice(calls);
    expect(newCalls.filter((c) => /^(init|switch create)/.test(c))).toEqual([]);
    expect(newCalls.some((c) => c.startsWith('install '))).toBe(true);
    expect(out).toMatch(/managed toolchain updated \(key [0-9a-f]{16}, ocaml-system\): .*ocaml-solo5: 1\.3\.2/);
    const after = JSON.parse(ws.read('.nx-mirage/toolchain.json'));
    expect(after.key).not.toBe(before.key);
    expect(after.versions).toMatchObject({ solo5: '0.12.1', 'ocaml-solo5': '1.3.2' });
    // The hvt unikernel was compiled by the managed ocaml-solo5 toolchain.
    expect(existsSync(join(ws.root, 'unikernels/kernel/dist/kernel.hvt'))).toBe(true);
    expect(repo.solo5.calls('ocamlopt').some(([cwd]) => cwd.includes('_build/solo5'))).toBe(true);
    // hello's build follows the toolchain record: a new key is a cache miss, not a restore.
    expect(out).not.toMatch(/hello:build.*\[local cache\]/);
    expect(out).toMatch(/Successfully ran target build for 2 projects/);
  });
});
