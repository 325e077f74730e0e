/**
 * A developer's machine, which the other suites leave out: the Nx daemon on and not CI, so that Nx runs the
 * tasks' sync generators (through the daemon) before it runs them, and keeps the project graph between
 * commands, with nx-mirage's plugin isolated in a worker (Nx's default) or, with NX_ISOLATE_PLUGINS=false,
 * loaded once in the daemon and kept between graph computations. Files added and edited between commands
 * reach the graph either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import { standinEnv, type StandinEnv } from './standins';

let ws: E2EWorkspace;
let tools: StandinEnv;
let toolsDir: string;

/** As a developer runs nx: daemon on, not CI. */
const DEVELOPER = { NX_DAEMON: 'true', CI: 'false' };

const nx = (args: string[], extra: Record<string, string> = {}) => ws.nxOk(args, { ...tools.env, ...DEVELOPER, ...extra });

const stopDaemon = () => ws.nx(['daemon', '--stop'], DEVELOPER);

/** A unikernel written by hand, as a user copies one: config.ml and unikernel.ml, no generator. */
function handWritten(dir: string, name: string) {
  ws.write(`${dir}/config.ml`, `open Mirage\n\nlet main = main "Unikernel" job ~packages:[ package "duration" ]\nlet () = register ${JSON.stringify(name)} [ main ]\n`);
  ws.write(`${dir}/unikernel.ml`, 'let start () = Lwt.return_unit\n');
}

beforeAll(async () => {
  toolsDir = mkdtempSync(join(tmpdir(), 'nx-mirage-e2e-tools-'));
  tools = standinEnv(toolsDir, true);
  ws = await E2EWorkspace.create({}, false);
  await ws.nxOk(['add', `nx-mirage@file:${ws.tarball}`], tools.env);
  await ws.nxOk(['g', 'nx-mirage:unikernel', 'hello'], tools.env);
  await ws.commit('hello');
});

afterAll(async () => {
  if (ws) await stopDaemon();
  ws?.cleanup();
  if (toolsDir) rmSync(toolsDir, { recursive: true, force: true });
});

describe.each<{ isolation: string; env: Record<string, string>; name: string }>([
  { isolation: 'isolated plugins (Nx default)', env: {}, name: 'iso' },
  { isolation: 'NX_ISOLATE_PLUGINS=false', env: { NX_ISOLATE_PLUGINS: 'false' }, name: 'inproc' },
])('with the daemon, not CI, $isolation', ({ env, name }) => {
  beforeAll(async () => {
    await stopDaemon();
  });

  it('builds through the daemon, its sync check finding the dune root in step', async () => {
    await nx(['build', 'hello', '--skip-nx-cache'], env);
    expect(existsSync(join(ws.root, 'apps/hello/dist/hello.hvt'))).toBe(true);
    const status = await ws.nx(['daemon'], { ...DEVELOPER, ...env });
    expect(status.all).toMatch(/Daemon is currently running/i);
    await nx(['sync:check'], env);
  });

  it('a unikernel added by hand, then renamed in its config.ml, reaches the daemon graph and builds', async () => {
    const projects = async () => (await nx(['show', 'projects'], env)).stdout.split('\n');
    handWritten(`apps/${name}`, name);
    expect(await projects()).toContain(name);

    // The same file with new content: the plugin, kept in the daemon or started again, infers from the new text.
    const renamed = `${name}_b`;
    handWritten(`apps/${name}`, renamed);
    expect(await projects()).toEqual(expect.arrayContaining([renamed, 'hello']));
    expect(await projects()).not.toContain(name);
    const project = JSON.parse((await nx(['show', 'project', renamed, '--json'], env)).stdout);
    expect(project.metadata.mirage.name).toBe(renamed);
    expect(project.targets.build.options.artifact).toBe(`${renamed}.hvt`);

    await nx(['build', renamed], env);
    expect(existsSync(join(ws.root, `apps/${name}/dist/${renamed}.hvt`))).toBe(true);

    ws.remove(`apps/${name}`);
    expect(await projects()).not.toContain(renamed);
  });
});
