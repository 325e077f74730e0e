/**
 * Executors with a toolchain nx-mirage manages: on a machine where mirage and the solo5 toolchain are not on
 * PATH, the toolchain target creates the managed switch from a local file:// repository (real opam 2.1,
 * offline), and configure and build run mirage and the cross compiler from it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../src/executors/log';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import configureExecutor from '../src/executors/configure/executor';
import buildExecutor from '../src/executors/build/executor';
import toolchainExecutor from '../src/executors/toolchain/executor';
import { forgetResolvedToolchains } from '../src/executors/use-toolchain';
import { toolchainStampDigest } from '../src/adapters/stamp';
import { TOOLCHAIN_RECORD, readSolo5Notes } from '../src/domain';
import { createOpamSpy, createStandinRepository, type OpamSpy, type StandinRepository } from './fixtures/standins/offline-opam';
import { DUNE_SPY_BIN, MirageWorkspace, writeUnikernel } from './mirage-workspace';

let m: MirageWorkspace;
let repo: StandinRepository;
let spy: OpamSpy;
let messages: string[];

function workspace(mode: 'auto' | 'managed' | 'path') {
  repo = createStandinRepository(join(process.env['TMPDIR'] ?? '/tmp', `nx-mirage-repo-${process.pid}-${Date.now()}`));
  m = new MirageWorkspace({
    plugins: [{ plugin: 'nx-mirage', options: { monorepo: false, toolchain: { mode, compiler: 'ocaml-system', repositories: [{ name: 'fixture', url: repo.url }] } } }],
  });
  m.activate();
  // Only the system's OCaml, dune and opam: no mirage, no solo5 toolchain, no findlib configuration of ours.
  spy = createOpamSpy(m.ws.path('.opam-spy'));
  process.env['PATH'] = [spy.bin, DUNE_SPY_BIN, '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  delete process.env['OCAMLFIND_CONF'];
  process.env['SOLO5_WRAPPER_LOG'] = repo.solo5.log;
  delete process.env['OPAMROOT'];
  delete process.env['OPAMSWITCH'];
  m.ws.write('.gitignore', '.toolchain\n_build\n.nx-mirage\n');
  writeUnikernel(m.ws, 'uk', 'uk');
  forgetResolvedToolchains();
  messages = [];
  for (const level of ['info', 'error', 'warn'] as const) vi.spyOn(logger, level).mockImplementation((msg: unknown) => void messages.push(String(msg)));
}

const opamCalls = () => spy.calls();

async function run(target: 'toolchain' | 'configure' | 'build') {
  // The toolchain is the dune root project's; configure and build are the unikernel's.
  const project = target === 'toolchain' ? '@nx-mirage' : 'uk';
  const ctx = await m.context(project);
  const options = ctx.projectsConfigurations.projects[project]!.targets![target]!.options ?? {};
  const executor = { toolchain: toolchainExecutor, configure: configureExecutor, build: buildExecutor }[target] as (o: unknown, c: typeof ctx) => Promise<{ success: boolean }>;
  return executor(options, ctx);
}

afterEach(() => {
  vi.restoreAllMocks();
  forgetResolvedToolchains();
  m?.cleanup();
  if (repo) rmSync(dirname(repo.dir), { recursive: true, force: true });
});

describe('managed toolchain (mode "auto", tools missing from PATH)', () => {
  beforeEach(() => workspace('auto'));

  it('is created by the toolchain target, used by configure and build, and reused without opam', async () => {
    expect(await run('toolchain')).toEqual({ success: true });
    const report = messages.join('\n');
    expect(report).toMatch(/nx-mirage toolchain: managed opam switch .*\.nx-mirage\/toolchain\/opam\/nx-mirage-ocaml-system \(key [0-9a-f]{16}\), because toolchain\.mode is "auto" and `mirage` was not found on PATH/);
    expect(report).toMatch(/^ {2}mirage 4\.11\.1$/m);
    expect(report).toMatch(/^ {2}solo5 0\.12\.1$/m);
    const record = JSON.parse(m.ws.read(TOOLCHAIN_RECORD));
    expect(record).toMatchObject({ source: 'managed', compiler: 'ocaml-system', versions: { mirage: '4.11.1', 'ocaml-solo5': '1.3.2' } });
    expect(JSON.stringify(record)).not.toContain(m.ws.root); // machine-independent: it is hashed

    const callsAfterCreate = opamCalls().length;
    forgetResolvedToolchains(); // as a new Nx task process would
    expect(await run('configure')).toEqual({ success: true });
    expect(await run('build')).toEqual({ success: true });
    expect(opamCalls()).toHaveLength(callsAfterCreate);
    // Built by the cross compiler that the managed ocaml-solo5 installed, with the Solo5 notes of hvt.
    expect(repo.solo5.calls('ocamlopt').some(([cwd]) => cwd.startsWith(m.ws.path('_build/solo5')))).toBe(true);
    expect(readSolo5Notes(readFileSync(m.ws.path('uk/dist/uk.hvt'))).abi).toMatchObject({ target: 'hvt' });
    expect(JSON.parse(m.ws.read('uk/dist/uk.hvt.manifest.json')).toolchain).toMatchObject({ mirage: '4.11.1' });
  });

  it('leaves a stamp that holds until what the record came from changes', async () => {
    const launch = { ...process.env }; // the environment Nx runs the stamp check and every task in
    const newTaskProcess = () => {
      forgetResolvedToolchains();
      for (const k of Object.keys(process.env)) if (!(k in launch)) delete process.env[k];
      Object.assign(process.env, launch);
    };
    expect(await run('toolchain')).toEqual({ success: true });
    const held = await toolchainStampDigest(m.ws.root, launch);
    expect(held).toMatch(/^stamp /);
    expect(await toolchainStampDigest(m.ws.root, launch)).toBe(held);
    // configure writes the unikernel's opam file: the switch requirements may have changed.
    newTaskProcess();
    expect(await run('configure')).toEqual({ success: true });
    expect(await toolchainStampDigest(m.ws.root, launch)).toMatch(/^changed /);
    newTaskProcess();
    expect(await run('toolchain')).toEqual({ success: true });
    const again = await toolchainStampDigest(m.ws.root, launch);
    expect(again).toMatch(/^stamp /);
    // The switch state is part of it: a removed toolchain directory makes the task run (and recreate it).
    m.ws.remove('.nx-mirage/toolchain');
    expect(await toolchainStampDigest(m.ws.root, launch)).toMatch(/^changed /);
  });

  it('uses the tools on PATH when they are all there, and says so', async () => {
    process.env['PATH'] = [join(__dirname, 'fixtures', 'standins', 'bin'), m.toolchain.env['PATH']!.split(':')[0], process.env['PATH']].join(':');
    process.env['OCAMLFIND_CONF'] = m.toolchain.findlibConf;
    expect(await run('toolchain')).toEqual({ success: true });
    expect(messages.join('\n')).toMatch(/nx-mirage toolchain: tools on PATH from .*standins\/bin, because every tool the unikernels need is on PATH/);
    expect(JSON.parse(m.ws.read(TOOLCHAIN_RECORD))).toMatchObject({ source: 'path', versions: { mirage: '4.11.1' } });
    expect(opamCalls()).toEqual([]);
  });
});

describe('toolchain mode "path" with tools missing', () => {
  beforeEach(() => workspace('path'));

  it('fails the toolchain target with the commands that install what is missing', async () => {
    expect(await run('toolchain')).toEqual({ success: false });
    const text = messages.join('\n');
    expect(text).toMatch(/The OCaml toolchain on PATH cannot build these unikernels:\n {2}- `mirage` was not found on PATH.*opam install 'mirage>=4.11.0'/);
    expect(text).toMatch(/set "toolchain": \{ "mode": "auto" \}/);
    expect(opamCalls()).toEqual([]);
  });
});
