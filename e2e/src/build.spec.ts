import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import type { Solo5Toolchain } from '../../packages/nx-mirage/test/fixtures/standins/solo5-toolchain';
import { standinEnv } from './standins';

let ws: E2EWorkspace;
let toolchain: Solo5Toolchain;
let env: Record<string, string>;

const sha = (rel: string) => createHash('sha256').update(readFileSync(join(ws.root, rel))).digest('hex');

function duneBuilds(): string[] {
  const log = join(ws.root, '.dune-spy.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('start\t') && l.includes('\tbuild ') && !l.includes('config.exe'))
    .map((l) => l.split('\t')[3]!);
}

function unikernel(dir: string, name: string, libs: string[] = []) {
  const local = libs.length ? ` ~local_libs:[ ${libs.map((l) => `"${l}"`).join('; ')} ]` : '';
  ws.write(`${dir}/config.ml`, `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\nlet main = main "Unikernel"${local} (network @-> job)\nlet () = register "${name}" [ main $ default_network ]\n`);
  ws.write(`${dir}/unikernel.ml`, libs.length ? `let start _net = print_endline (Shared.hello "${name}")\n` : `let start _net = print_endline "${name}"\n`);
}

const nx = async (args: string[]) => (await ws.nxOk(args, env)).all;

beforeAll(async () => {
  // The default configuration (monorepo: true, one lockfile for the dune root), with opam-monorepo's stand-in in
  // a real, offline opam root.
  ws = await E2EWorkspace.create({
    plugins: [{ plugin: 'nx-mirage', options: { unikernels: { site: { target: 'unix' } } } }],
    sync: { applyChanges: true },
  });
  const tools = standinEnv(join(ws.root, '.tools'), true);
  toolchain = tools.toolchain;
  env = { ...tools.env, DUNE_SPY_LOG: join(ws.root, '.dune-spy.log'), MIRAGE_STANDIN_LOG: join(ws.root, '.mirage.log') };
  ws.write('.gitignore', 'node_modules\n.nx\n_build\n.tools\n.xdg-cache\n.dune-spy.log\n.mirage.log\nduniverse/\n');
  ws.write('libs/shared/dune', '(library (name shared))\n');
  ws.write('libs/shared/shared.ml', 'let hello who = "hello " ^ who\n');
  unikernel('unikernels/uk1', 'uk1', ['shared']);
  unikernel('unikernels/uk2', 'uk2', ['shared']);
  unikernel('unikernels/site', 'site');
  ws.writeJson('apps/web/package.json', { name: 'web', version: '1.0.0', scripts: { build: 'node build.js' } });
  ws.write('apps/web/build.js', "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.html','<h1>web</h1>');\n");
  // As a user does after adding the plugin: the root dune files come from nx sync and are committed.
  await nx(['sync']);
  await ws.commit('unikernels');
});

afterAll(() => ws?.cleanup());

describe('nx build of unikernels in a real Nx 24 workspace', () => {
  it('nx run-many -t build builds every unikernel beside the web app: one dune call for all of them, hvt and unix, the library once', async () => {
    const out = await nx(['run-many', '-t', 'build']);
    // uk1, uk2, site, the shared library (an OCaml library project) and the web app.
    expect(out).toContain('Successfully ran target build for 5 projects');
    expect(out).toContain('nx run @nx-mirage:pull');
    const unikernelBuilds = duneBuilds().filter((b) => b.includes('.hvt') || b.includes('/site/site'));
    expect(unikernelBuilds).toHaveLength(1);
    for (const t of ['_build/solo5/unikernels/uk1/uk1.hvt', '_build/solo5/unikernels/uk2/uk2.hvt', '_build/default/unikernels/site/site']) {
      expect(unikernelBuilds[0]).toContain(t);
    }
    // The library task built shared in the context its dependents use (solo5), once, not also in the host
    // context: the unikernels' dune call reused it.
    const sharedCompiles = toolchain.calls('ocamlopt').filter(([cwd, args]) => cwd.endsWith('_build/solo5') && args.includes('libs/shared/shared.ml'));
    expect(sharedCompiles).toHaveLength(1);
    expect(existsSync(join(ws.root, '_build/default/libs/shared/shared.cmxa'))).toBe(false);
    for (const f of ['unikernels/uk1/dist/uk1.hvt', 'unikernels/uk2/dist/uk2.hvt', 'unikernels/site/dist/site', 'apps/web/dist/index.html']) {
      expect(existsSync(join(ws.root, f)), f).toBe(true);
    }
    const manifest = JSON.parse(ws.read('unikernels/uk1/dist/uk1.hvt.manifest.json'));
    expect(manifest).toMatchObject({ unikernel: 'uk1', target: 'hvt', abi: { kind: 'solo5', target: 'hvt', version: 2 }, devices: [{ name: 'service', type: 'NET_BASIC' }] });
    expect(manifest.sha256).toBe(sha('unikernels/uk1/dist/uk1.hvt'));
    // nx-mirage's root files are in place and in sync.
    expect(ws.read('dune-workspace')).toContain('(name solo5)');
    await nx(['sync:check']);
  });

  it('a second run is all cache hits and runs no dune', async () => {
    const before = duneBuilds().length;
    const out = await nx(['run-many', '-t', 'build']);
    if (duneBuilds().length !== before) throw new Error(`dune ran:\n${duneBuilds().slice(before).join('\n')}\n${out}`);
  });

  it('restores a deleted artifact bit-identical from the cache without running dune', async () => {
    const hvt = sha('unikernels/uk1/dist/uk1.hvt');
    const manifest = ws.read('unikernels/uk1/dist/uk1.hvt.manifest.json');
    ws.remove('unikernels/uk1/dist/uk1.hvt');
    ws.remove('unikernels/uk1/dist/uk1.hvt.manifest.json');
    const before = duneBuilds().length;
    const out = await nx(['build', 'uk1']);
    expect(out).toContain('[local cache]');
    expect(duneBuilds()).toHaveLength(before);
    expect(sha('unikernels/uk1/dist/uk1.hvt')).toBe(hvt);
    expect(ws.read('unikernels/uk1/dist/uk1.hvt.manifest.json')).toBe(manifest);
  });

  it('a cross toolchain version change is a cache miss for Solo5 unikernels and the library they use, not the unix one', async () => {
    // Each build hashes the version files of the tools it runs, which the toolchain task (keyed by the version
    // probes, run once a run) leaves: the solo5 cross compiler's for uk1 and the library, not for site.
    const depOutputs = async (task: string) => (await ws.nxJson<{ depOutputs?: string[] }>(['show', 'target', 'inputs', task, '--json'])).depOutputs ?? [];
    expect(await depOutputs('uk1:build')).toEqual(expect.arrayContaining(['.nx-mirage/versions/cross-solo5', '.nx-mirage/versions/mirage', '.nx-mirage/versions/ocaml']));
    expect(await depOutputs('shared:build')).toContain('.nx-mirage/versions/cross-solo5');
    expect(await depOutputs('site:build')).not.toContain('.nx-mirage/versions/cross-solo5');
    toolchain.setVersion('4.13.1+solo5-upgraded');
    const before = duneBuilds().length;
    const out = await nx(['run-many', '-t', 'build', '-p', 'uk1', 'site']);
    // One batch, one dune call: the shared library (in the solo5 context, for uk1) and uk1; site is a cache hit.
    const builds = duneBuilds().slice(before);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toContain('@@_build/solo5/libs/shared/default');
    expect(builds[0]).toContain('uk1.hvt');
    expect(builds[0]).not.toContain('site');
    expect(out).toMatch(/nx run site:build\s+\[local cache\]/);
    expect(JSON.parse(ws.read('unikernels/uk1/dist/uk1.hvt.manifest.json')).toolchain.cross.solo5).toBe('4.13.1+solo5-upgraded');
  });

  it('after a config.ml edit only that unikernel configures again; the batch rebuilds it and the rest hit the cache', async () => {
    const configures = () => readFileSync(join(ws.root, '.mirage.log'), 'utf8').split('\n').filter((l) => l.includes('\tconfigure '));
    const before = { configures: configures().length, builds: duneBuilds().length };
    ws.write('unikernels/uk2/config.ml', ws.read('unikernels/uk2/config.ml') + '(* edited *)\n');
    const out = await nx(['run-many', '-t', 'build']);
    expect(configures().slice(before.configures).map((l) => l.split('\t')[1])).toEqual(['configure -f unikernels/uk2/config.ml -t hvt']);
    // No configure task runs in a build: the lock configured uk2, and its build found it configured.
    expect(out).not.toMatch(/nx run \w+:configure/);
    expect(out).toMatch(/nx run uk1:build\s+\[local cache\]/);
    expect(out).toMatch(/nx run site:build\s+\[local cache\]/);
    expect(duneBuilds().slice(before.builds)).toHaveLength(1);
    expect(duneBuilds().at(-1)).toContain('uk2.hvt');
    expect(duneBuilds().at(-1)).not.toContain('uk1.hvt');
    await ws.commit('uk2 config.ml edited');
  });

  it('a unikernel whose config.ml does not compile fails alone: the others lock, pull and build', async () => {
    unikernel('unikernels/broken', 'broken', ['shared']);
    ws.write('unikernels/broken/config.ml', ws.read('unikernels/broken/config.ml').replace('[ main $ default_network ]', '[ main $ default_network; 42 ]'));
    ws.write('unikernels/uk1/unikernel.ml', 'let start () = print_endline (Shared.hello "uk1, again")\n');
    try {
      const before = duneBuilds().length;
      const r = await ws.nx(['run-many', '-t', 'build'], env);
      expect(r.exitCode).not.toBe(0);
      // mirage's own message, with the file and line, from broken's build (which configures it first).
      expect(r.all).toContain('File "unikernels/broken/config.ml", line 4');
      expect(r.all).toContain('Error: This expression has type int but an expression was expected of type');
      expect(r.all).toContain('broken: unikernels/broken/config.ml could not be configured for hvt (mirage configure failed, output above)');
      expect(r.all).toMatch(/Failed tasks:\s+- broken:build\s/);
      expect(r.all).toContain('✔  nx run @nx-mirage:pull');
      // The others were locked and built, uk1 again after its edit, in one dune call.
      expect(duneBuilds().slice(before)).toHaveLength(1);
      expect(duneBuilds().at(-1)).toContain('uk1.hvt');
      expect(ws.read('mirage.opam.locked')).not.toContain('broken');
      // The lock says which unikernel it left out, and why.
      const lock = await nx(['run', '@nx-mirage:lock']);
      expect(lock).toMatch(/nx-mirage: unikernels\/broken\/config.ml could not be configured, so it is left out\. nx run broken:configure shows why:\n.*Error: This expression has type int/s);
    } finally {
      ws.remove('unikernels/broken');
    }
  });

  it('editing one unikernel rebuilds that one only', async () => {
    ws.write('unikernels/uk2/unikernel.ml', 'let start () = print_endline (Shared.hello "uk2, edited")\n');
    const before = duneBuilds().length;
    const out = await nx(['run-many', '-t', 'build']);
    expect(duneBuilds().length).toBe(before + 1);
    expect(duneBuilds().at(-1)).toContain('uk2.hvt');
    expect(duneBuilds().at(-1)).not.toContain('uk1.hvt');
    expect(out).toMatch(/nx run uk1:build\s+\[local cache\]/);
  });

  it('with lock and pull from the cache, a library edit is one dune call for the library and one for its unikernels, one task at a time too', async () => {
    // The lock and pull of the run after the previous test's unikernel was removed were keyed by the stamp from
    // before it (they ran, and left a new one): this run caches them under the new one.
    await nx(['run-many', '-t', 'build']);
    ws.write('libs/shared/shared.ml', 'let hello who = "hello, " ^ who\n');
    const before = duneBuilds().length;
    // One task at a time: the unikernels' locked-versions, which their builds wait for, are cache hits resolved
    // together, not run one by one between batches (which would split the dune call).
    const out = await nx(['run-many', '-t', 'build', '--parallel=1']);
    expect(out).toMatch(/nx run @nx-mirage:pull\s+\[local cache\]/);
    const builds = duneBuilds().slice(before);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toContain('@@_build/solo5/libs/shared/default');
    expect(builds[0]).toContain('uk1.hvt');
    expect(builds[0]).toContain('uk2.hvt');
    expect(out).toMatch(/nx run site:build\s+\[local cache\]/);
  });

  it('a root dune file of the user\'s, with an env stanza that changes the flags, is part of every build\'s key', async () => {
    const managed = ws.read('dune');
    ws.write('dune', '(dirs :standard \\ node_modules)\n(env (_ (ocamlopt_flags (:standard -inline 200))))\n');
    try {
      const before = duneBuilds().length;
      const out = await nx(['build', 'uk1']);
      expect(out).not.toMatch(/nx run uk1:build\s+\[local cache\]/);
      expect(duneBuilds().length).toBeGreaterThan(before);
      expect(ws.read('dune')).toContain('-inline 200');
    } finally {
      ws.write('dune', managed);
    }
  });

  it('parallel unbatched builds in separate task processes never run dune at once', async () => {
    const spy = () => readFileSync(join(ws.root, '.dune-spy.log'), 'utf8').split('\n').filter(Boolean);
    const before = spy().length;
    await nx(['run-many', '-t', 'build', '-p', 'uk1', 'uk2', 'site', '--skip-nx-cache', '--batch=false', '--parallel=3']);
    const log = spy().slice(before);
    const runs = new Map<string, { start: bigint; end?: bigint; build: boolean; nxMirage: boolean }>();
    for (const line of log) {
      const [kind, pid, ns, rest] = line.split('\t');
      if (kind === 'start') runs.set(pid!, { start: BigInt(ns!), build: rest!.startsWith('build '), nxMirage: !rest!.includes('config.exe') });
      else runs.get(pid!)!.end = BigInt(ns!);
    }
    const builds = [...runs.values()].filter((r) => r.build).sort((a, b) => (a.start < b.start ? -1 : 1));
    // uk1, uk2 and site, plus the shared library they depend on (and config.exe builds, if mirage ran).
    expect(builds.filter((b) => b.nxMirage)).toHaveLength(4);
    for (let i = 1; i < builds.length; i++) expect(builds[i]!.start >= builds[i - 1]!.end!).toBe(true);
  });

  it('a corrupted artifact is never kept: the next build restores the one its manifest describes', async () => {
    const manifest = JSON.parse(ws.read('unikernels/uk1/dist/uk1.hvt.manifest.json'));
    ws.write('unikernels/uk1/dist/uk1.hvt', 'corrupted');
    const out = await nx(['build', 'uk1']);
    expect(out).toMatch(/nx run uk1:build\s+\[local cache\]/);
    expect(sha('unikernels/uk1/dist/uk1.hvt')).toBe(manifest.sha256);
  });

  it('two nx processes building in one dune root both succeed, one dune at a time', async () => {
    const spy = () => readFileSync(join(ws.root, '.dune-spy.log'), 'utf8').split('\n').filter(Boolean);
    const before = spy().length;
    const [a, b] = await Promise.all([
      ws.nx(['build', 'uk1', '--skip-nx-cache'], env),
      ws.nx(['build', 'uk2', '--skip-nx-cache'], env),
    ]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    // dune processes that use _build (not the `dune --version` probes of Nx's runtime inputs).
    const runs = new Map<string, { start: bigint; end?: bigint; build: boolean }>();
    for (const line of spy().slice(before)) {
      const [kind, pid, ns, rest] = line.split('\t');
      if (kind === 'start') runs.set(pid!, { start: BigInt(ns!), build: rest!.startsWith('build ') });
      else if (runs.has(pid!)) runs.get(pid!)!.end = BigInt(ns!);
    }
    const ordered = [...runs.values()].filter((r) => r.build).sort((x, y) => (x.start < y.start ? -1 : 1));
    expect(ordered.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]!.start >= ordered[i - 1]!.end!).toBe(true);
  });

  it('nx run starts the tender with the devices, and SIGTERM reaches it', async () => {
    const tenders = join(__dirname, '..', '..', 'packages', 'nx-mirage', 'test', 'fixtures', 'standins', 'tender');
    const log = join(ws.root, '.tender.log');
    const missing = await ws.nx(['run', 'uk1:run'], { ...env, PATH: `${tenders}:${env['PATH']}`, TENDER_LOG: log });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.all).toContain('uk1.hvt needs device "service" (NET_BASIC); give it with --net.service=tap0');
    expect(existsSync(log)).toBe(false);

    const { execa } = await import('execa');
    const nxProcess = execa(process.execPath, [join(ws.root, 'node_modules', '.bin', 'nx'), 'run', 'uk1:run', '--net.service=tap0', '--args=--hello=$(id)'], {
      cwd: ws.root,
      reject: false,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true', ...env, PATH: `${tenders}:${env['PATH']}`, TENDER_LOG: log, TENDER_WAIT: '1' },
    });
    for (let i = 0; i < 600 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 50));
    const started = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!);
    expect(started).toEqual({ program: 'solo5-hvt', argv: ['--net:service=tap0', '--', join(ws.root, 'unikernels/uk1/dist/uk1.hvt'), '--hello=$(id)'] });
    nxProcess.kill('SIGTERM');
    const result = await nxProcess;
    expect(result.exitCode === 0).toBe(false);
    expect(readFileSync(log, 'utf8')).toContain('{"signal":"SIGTERM"}');
  });

  it('nx sync updates the dune contexts when the targets in use change', async () => {
    const nxJson = JSON.parse(ws.read('nx.json'));
    nxJson.plugins[0].options.additionalTargets = ['unikraft-qemu'];
    nxJson.sync = { applyChanges: false };
    ws.writeJson('nx.json', nxJson);
    const check = await ws.nx(['sync:check'], env);
    expect(check.exitCode).not.toBe(0);
    expect(check.all).toContain('do not match the mirage targets in use');
    await nx(['sync']);
    expect(ws.read('dune-workspace')).toContain('(name unikraft)');
    await nx(['sync:check']);
  });

  it('without the daemon, the sync generator works from the project graph Nx computed for the command instead of computing it again', async () => {
    // Nx's perf log names each plugin worker it starts; each computation of the graph starts nx-mirage's once.
    // Without the daemon, nx sync computes the graph for the command and again before the sync generators run;
    // nx-mirage's generator reading it through createProjectGraphAsync made that three. That the graph it reads is
    // the command's own, with what changed since the last command, the test above shows (nx.json's targets).
    const workerStarts = (out: string) => out.split('\n').filter((l) => l.includes("'start-plugin-worker:nx-mirage'")).length;
    const perf = { NX_PERF_LOGGING: 'true', NX_DAEMON: 'false' };
    expect(workerStarts((await ws.nxOk(['show', 'projects'], { ...env, ...perf })).all)).toBe(1);
    expect(workerStarts((await ws.nxOk(['sync'], { ...env, ...perf })).all)).toBe(2);
  });
});
