/**
 * `verify`: two builds from scratch compared, with real dune and OCaml and the stand-in toolchain; a unikernel
 * made non-reproducible on purpose (a library rule that embeds the time) fails with where the builds differ.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { logger } from '../src/executors/log';
import configureExecutor from '../src/executors/configure/executor';
import verifyExecutor from '../src/executors/verify/executor';
import pullExecutor from '../src/executors/pull/executor';
import { createOfflineOpam } from './fixtures/standins/offline-opam';
import { MirageWorkspace, writeUnikernel } from './mirage-workspace';

let m: MirageWorkspace;

async function run(project: string, target: 'configure' | 'verify') {
  const ctx = await m.context(project);
  const options = ctx.projectsConfigurations.projects[project]!.targets![target]!.options as never;
  return target === 'configure' ? configureExecutor(options, ctx) : verifyExecutor(options, ctx);
}

beforeAll(async () => {
  m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { monorepo: false, unikernels: { host: { target: 'unix' } } } }] });
  m.activate();
  writeUnikernel(m.ws, 'apps/steady', 'steady', { network: true });
  writeUnikernel(m.ws, 'apps/host', 'host');
  // A library whose module holds the time of its build, used by the unikernel.
  m.ws.write('libs/stamp/dune', '(library (name stamp))\n\n(rule\n (targets stamp.ml)\n (action\n  (with-stdout-to stamp.ml\n   (progn (echo "let at = \\"") (run date +%s%N) (echo "\\"\\n")))))\n');
  m.ws.write('apps/drifting/config.ml', '(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n\nlet main = main "Unikernel" ~local_libs:[ "stamp" ] job\nlet () = register "drifting" [ main ]\n');
  m.ws.write('apps/drifting/unikernel.ml', 'let start () = print_endline Stamp.at\n');
  for (const p of ['steady', 'host', 'drifting']) expect(await run(p, 'configure')).toEqual({ success: true });
});

afterAll(() => m?.cleanup());

describe('verify', () => {
  it('passes for a unikernel that builds reproducibly, hvt and unix, and leaves no build directory', async () => {
    const info = vi.spyOn(logger, 'info');
    expect(await run('steady', 'verify')).toEqual({ success: true });
    expect(info.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(/^nx-mirage: steady\.hvt builds reproducibly: twice from scratch at one build path, \d+ bytes, sha256 [0-9a-f]{64}$/));
    expect(await run('host', 'verify')).toEqual({ success: true });
    expect(readdirSync(m.ws.root).filter((f) => f.startsWith('_build.verify'))).toEqual([]);
    info.mockRestore();
  });

  it('fails for one that embeds the time of its build, saying where the two builds differ, and keeps both', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(await run('drifting', 'verify')).toEqual({ success: false });
    const message = String(error.mock.calls.at(-1)?.[0]);
    expect(message).toMatch(
      /^drifting\.hvt does not build reproducibly: the first build is \d+ bytes \(sha256 [0-9a-f]{16}…\), the second \d+ bytes \(sha256 [0-9a-f]{16}…\); they first differ at byte \d+ \(0x[0-9a-f]+\), in section \.\w+/,
    );
    expect(message).toContain('Both builds are kept in .nx-mirage/verify/drifting/');
    expect(existsSync(m.ws.path('.nx-mirage/verify/drifting/drifting.hvt.1'))).toBe(true);
    expect(existsSync(m.ws.path('.nx-mirage/verify/drifting/drifting.hvt.2'))).toBe(true);
    expect(readdirSync(m.ws.root).filter((f) => f.startsWith('_build.verify'))).toEqual([]);
    error.mockRestore();
  });
});

describe('verify in the default configuration (opam-monorepo, one lockfile)', () => {
  it('passes for a unikernel built against the pulled duniverse/', async () => {
    const d = new MirageWorkspace({ plugins: ['nx-mirage'] });
    try {
      const opam = createOfflineOpam(d.ws.path('.opam'));
      d.activate(opam.env);
      d.ws.write('.gitignore', '.toolchain\n_build\n.opam\n');
      writeUnikernel(d.ws, 'apps/steady', 'steady', { network: true });
      const ctx = await d.context('@nx-mirage');
      expect(await pullExecutor(ctx.projectsConfigurations.projects['@nx-mirage']!.targets!['pull']!.options as never, ctx)).toEqual({ success: true });
      expect(existsSync(d.ws.path('duniverse'))).toBe(true);
      const own = await d.context('steady');
      expect(await verifyExecutor(own.projectsConfigurations.projects['steady']!.targets!['verify']!.options as never, own)).toEqual({ success: true });
      expect(readdirSync(d.ws.root).filter((f) => f.startsWith('_build.verify'))).toEqual([]);
    } finally {
      d.cleanup();
      m.activate();
    }
  });
});
