/**
 * `nx serve`: the development loop through real Nx in the default configuration (monorepo, one lockfile),
 * with the stand-ins. The hvt unikernel runs as unix here (no solo5-hvt, no KVM); a library edit and a
 * unikernel edit rebuild and restart it, a config.ml edit configures first, and Ctrl-C (SIGINT to the
 * process group, as a terminal sends it) stops the unikernel, the watcher and Nx, leaving no dune root lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import { standinEnv } from './standins';

let ws: E2EWorkspace;
let env: Record<string, string>;

const lockDir = () => join(tmpdir(), `nx-mirage-dune-${createHash('sha256').update(realpathSync(ws.root)).digest('hex').slice(0, 16)}.lock`);

beforeAll(async () => {
  ws = await E2EWorkspace.create({ plugins: ['nx-mirage'] });
  env = standinEnv(join(ws.root, '.tools'), true).env;
  ws.write('.gitignore', 'node_modules\n.nx\n_build\n.tools\nduniverse/\n');
  ws.write('libs/greet/dune', '(library (name greet))\n');
  ws.write('libs/greet/greet.ml', 'let text = "v1"\n');
  ws.write('apps/live/config.ml', '(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n\nlet main = main "Unikernel" ~local_libs:[ "greet" ] job\nlet () = register "live" [ main ]\n');
  // It prints, then runs until stopped, as a served unikernel does.
  const unikernelMl = (tag: string) =>
    `let start () = print_endline ("live ${tag}: " ^ Greet.text); flush stdout; Lwt.bind (Lwt_unix.sleep 3600.) (fun () -> Lwt.return_unit)\n`;
  ws.write('apps/live/unikernel.ml', unikernelMl('a'));
  const r = await ws.nx(['sync'], env);
  if (r.exitCode !== 0) throw new Error(r.all);
  await ws.commit('a unikernel to serve');
});

afterAll(() => ws?.cleanup());

describe('nx serve', () => {
  it('runs the unikernel, rebuilds and restarts it on changes (configuring after a config.ml edit), and stops cleanly on Ctrl-C', async () => {
    const show = JSON.parse((await ws.nx(['show', 'project', 'live', '--json'], env)).stdout) as { targets: Record<string, { continuous?: boolean; options: { watch: string[] }; metadata: { description: string } }> };
    expect(show.targets['serve']!.continuous).toBe(true);
    expect(show.targets['serve']!.options.watch).toEqual(['apps/live', 'libs/greet']);
    expect(show.targets['serve']!.metadata.description).toMatch(/rebuild and restart it when its sources/);

    let output = '';
    const serve = execa(process.execPath, [join(ws.root, 'node_modules', '.bin', 'nx'), 'serve', 'live'], {
      cwd: ws.root,
      reject: false,
      detached: true,
      all: true,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true', FORCE_COLOR: '0', ...env },
    });
    serve.all!.on('data', (d: Buffer) => (output += d.toString()));
    const seen = async (pattern: RegExp, what: string) => {
      for (let i = 0; i < 1200 && !pattern.test(output); i++) await new Promise((r) => setTimeout(r, 100));
      if (!pattern.test(output)) throw new Error(`never saw ${what}:\n${output}`);
    };
    try {
      await seen(/live a: v1/, 'the first run');
      expect(output).toMatch(/nx-mirage: serving live as unix \(unix, since solo5-hvt is not on PATH\); watching apps\/live, libs\/greet/);
      expect(output).toMatch(/nx-mirage: live built in \d+ ms/);

      ws.write('libs/greet/greet.ml', 'let text = "v2"\n');
      await seen(/live a: v2/, 'the restart after a library edit');
      expect(output).toMatch(/nx-mirage: live rebuilt in \d+ ms \(libs\/greet\/greet\.ml\); restarting/);

      ws.write('apps/live/unikernel.ml', ws.read('apps/live/unikernel.ml').replace('live a', 'live b'));
      await seen(/live b: v2/, 'the restart after a unikernel edit');

      const configuredBefore = output.split('Successfully configured the unikernel').length;
      ws.write('apps/live/config.ml', `${ws.read('apps/live/config.ml')}(* edited *)\n`);
      await seen(/rebuilt in \d+ ms \(apps\/live\/config\.ml\)/, 'the rebuild after a config.ml edit');
      expect(output.split('Successfully configured the unikernel').length).toBe(configuredBefore + 1);
      await seen(/live b: v2[^]*live b: v2/, 'the restart after the config.ml edit');
    } finally {
      process.kill(-serve.pid!, 'SIGINT');
    }
    await serve;
    const left = await execa('pgrep', ['-f', join(ws.root, 'apps/live/dist/live')], { reject: false });
    expect(left.stdout).toBe('');
    expect(existsSync(lockDir())).toBe(false);
  });
});
