import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../src/executors/log';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import configureExecutor from '../src/executors/configure/executor';
import buildExecutor from '../src/executors/build/executor';
import runExecutor from '../src/executors/run/executor';
import { MirageWorkspace, writeUnikernel } from './mirage-workspace';

const TENDERS = join(__dirname, 'fixtures', 'standins', 'tender');
let m: MirageWorkspace;
let tenderLog: string;

async function run(project: string, extra: Record<string, unknown> = {}) {
  const ctx = await m.context(project);
  const options = ctx.projectsConfigurations.projects[project]!.targets!['run']!.options as Record<string, unknown>;
  return runExecutor({ ...options, ...extra } as never, ctx);
}

const tenderCalls = (): Array<{ program: string; argv: string[] }> =>
  existsSync(tenderLog) ? readFileSync(tenderLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];

beforeAll(async () => {
  m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { monorepo: false, unikernels: { echo: { target: 'unix' }, netx: { target: 'xen' } } } }] });
  tenderLog = m.ws.path('.tender.log');
  m.pathPrefix = [TENDERS];
  m.activate({ TENDER_LOG: tenderLog });
  writeUnikernel(m.ws, 'uk', 'uk', { network: true });
  writeUnikernel(m.ws, 'netx', 'netx', { network: true, block: 'disk.img' });
  m.ws.write('echo/config.ml', 'open Mirage\nlet main = main "Unikernel" job\nlet () = register "echo" [ main ]\n');
  m.ws.write('echo/unikernel.ml', 'let start () = Array.iteri (fun i a -> if i > 0 then print_endline a) Sys.argv; exit (Array.length Sys.argv - 1)\n');
  for (const p of ['uk', 'echo', 'netx']) {
    const ctx = await m.context(p);
    const targets = ctx.projectsConfigurations.projects[p]!.targets!;
    expect(await configureExecutor(targets['configure']!.options as never, ctx)).toEqual({ success: true });
    expect(await buildExecutor(targets['build']!.options as never, ctx)).toEqual({ success: true });
  }
});

afterAll(() => m?.cleanup());

describe('run', () => {
  it('refuses to start without the devices the manifest declares, naming them and the option', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(await run('uk')).toEqual({ success: false });
    expect(String(error.mock.calls.at(-1)?.[0])).toBe('uk.hvt needs device "service" (NET_BASIC); give it with --net.service=tap0');
    expect(await run('uk', { net: { service: 'tap0', wan: 'tap1' } })).toEqual({ success: false });
    expect(String(error.mock.calls.at(-1)?.[0])).toBe('--net.wan: uk.hvt has no device "wan" (its devices: service (NET_BASIC))');
    expect(tenderCalls()).toEqual([]);
    error.mockRestore();
  });

  it('starts solo5-hvt with the devices, memory and runtime arguments verbatim', async () => {
    const hostile = ['--hello=$(touch /tmp/pwned)', 'two words', '`id`;ls', "quote's \"here\"", 'line\nbreak', '-rf'];
    expect(await run('uk', { net: { service: 'tap0' }, memory: 32, args: hostile })).toEqual({ success: true });
    expect(tenderCalls().at(-1)).toEqual({
      program: 'solo5-hvt',
      argv: ['--mem=32', '--net:service=tap0', '--', m.ws.path('uk/dist/uk.hvt'), ...hostile],
    });
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('with a configuration, runs that target\'s artifact: the configuration switches only the target', async () => {
    const ctx = await m.context('uk');
    const targets = ctx.projectsConfigurations.projects['uk']!.targets!;
    expect(targets['run']!.configurations!['spt']).toEqual({ target: 'spt' });
    const withSpt = (t: string) => ({ ...(targets[t]!.options as object), ...targets[t]!.configurations!['spt'] }) as never;
    expect(await configureExecutor(withSpt('configure'), ctx)).toEqual({ success: true });
    expect(await buildExecutor(withSpt('build'), ctx)).toEqual({ success: true });
    expect(await runExecutor({ ...(withSpt('run') as object), net: { service: 'tap0' } } as never, ctx)).toEqual({ success: true });
    expect(tenderCalls().at(-1)).toEqual({ program: 'solo5-spt', argv: ['--net:service=tap0', '--', m.ws.path('uk/dist/uk.spt')] });
  });

  it('reports the tender\'s failure', async () => {
    m.activate({ TENDER_EXIT: '3', TENDER_LOG: tenderLog });
    const before = tenderCalls().length;
    try {
      expect(await run('uk', { net: { service: 'tap0' } })).toEqual({ success: false });
      expect(tenderCalls()).toHaveLength(before + 1);
    } finally {
      m.activate({ TENDER_EXIT: undefined, TENDER_LOG: tenderLog });
    }
  });

  it('runs a unix unikernel itself, with its arguments, and fails when it does', async () => {
    expect(await run('echo')).toEqual({ success: true });
    expect(await run('echo', { args: ['a b', '$(x)'] })).toEqual({ success: false }); // it exits with the number of arguments
  });

  it('never runs an artifact that no longer matches its manifest', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const hvt = m.ws.path('uk/dist/uk.hvt');
    const original = readFileSync(hvt);
    writeFileSync(hvt, Buffer.concat([original, Buffer.from('tampered')]));
    const before = tenderCalls().length;
    try {
      expect(await run('uk', { net: { service: 'tap0' } })).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/^uk\/dist\/uk\.hvt does not match its manifest \(sha256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…\): it changed after the build, so it is not run\. Rebuild with: nx build uk -c hvt --skip-nx-cache$/);
      writeFileSync(m.ws.path('uk/dist/uk.hvt.manifest.json'), '{ not json');
      expect(await run('uk', { net: { service: 'tap0' } })).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/uk\.hvt\.manifest\.json is not a valid manifest/);
      expect(tenderCalls()).toHaveLength(before);
    } finally {
      writeFileSync(hvt, original);
      error.mockRestore();
    }
  });

  it('runs a Xen unikernel with xl on mirage\'s template, rendered with the devices, memory and arguments given', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const rendered = m.ws.path('netx/dist/netx.xen.run.xl');
    try {
      // The manifest of a Xen unikernel lists no devices: they are checked against the xl template.
      expect(JSON.parse(readFileSync(m.ws.path('netx/dist/netx.xen.manifest.json'), 'utf8')).devices).toEqual([]);
      expect(await run('netx', { net: { service: 'br1' } })).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toBe('--net.service: the Xen configuration has no network device "service" (its networks: "0")');
      expect(await run('netx', { args: ['two words'] })).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/^runtime arguments "two words" cannot reach a Xen unikernel intact/);
      expect(existsSync(rendered)).toBe(false);
      // No xl on this machine: the configuration is written, then the missing program is named.
      expect(await run('netx', { net: { '0': 'xenbr1' }, block: { 'disk.img': '/srv/data.img' }, memory: 64, args: ['--hello=xen'] })).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/`xl` was not found on PATH/);
      expect(readFileSync(rendered, 'utf8')).toBe(
        "name = 'netx'\nkernel = 'netx.xen'\ntype = 'pvh'\nmemory = 64\non_crash = 'preserve'\n\n" +
          "disk = [ 'format=raw, vdev=xvdb, access=rw, target=/srv/data.img' ]\n\n" +
          '# if your system uses openvswitch then either edit /etc/xen/xl.conf and set\n#     vif.default.script="vif-openvswitch"\n# or add "script=vif-openvswitch," before the "bridge=" below:\n' +
          "vif = [ 'bridge=xenbr1' ]\nextra = '--hello=xen'\n",
      );
    } finally {
      error.mockRestore();
    }
  });
});
