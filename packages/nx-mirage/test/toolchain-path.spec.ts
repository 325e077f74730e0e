/**
 * The toolchain task in mode "path" (a plain registration): it checks the tools on PATH and writes the record
 * and the version files builds hash (`.nx-mirage/versions/`), one per tool in use.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../src/executors/log';
import toolchainExecutor from '../src/executors/toolchain/executor';
import { DUNE_SPY_BIN, MirageWorkspace, writeSharedLibrary, writeUnikernel } from './mirage-workspace';
import { createOfflineOpam } from './fixtures/standins/offline-opam';

let m: MirageWorkspace;
afterEach(() => {
  vi.restoreAllMocks();
  m?.cleanup();
});

async function runToolchain() {
  const ctx: ExecutorContext = await m.context('@nx-mirage');
  return toolchainExecutor(ctx.projectsConfigurations.projects['@nx-mirage']!.targets!['toolchain']!.options as object, ctx);
}

/** The default configuration (opam-monorepo, one lockfile), with opam-monorepo's stand-in in a real, offline opam root. */
function defaultWorkspace(nxJson: Record<string, unknown> = { plugins: ['nx-mirage'] }) {
  m = new MirageWorkspace(nxJson);
  m.activate(createOfflineOpam(m.ws.path('.opam')).env);
  m.ws.write('.gitignore', '.toolchain\n_build\n.opam\n');
}

const versions = () => Object.fromEntries(readdirSync(m.ws.path('.nx-mirage/versions')).map((f) => [f, readFileSync(m.ws.path(`.nx-mirage/versions/${f}`), 'utf8')]));

describe('toolchain task, mode path', () => {
  it('writes one version file per tool the unikernels use', async () => {
    defaultWorkspace();
    writeUnikernel(m.ws, 'uk', 'uk');
    m.toolchain.setVersion('4.13.1+solo5-test');
    expect(await runToolchain()).toEqual({ success: true });
    expect(versions()).toMatchObject({ source: 'path\n', mirage: '4.11.1\n', 'cross-solo5': '4.13.1+solo5-test\n' });
    expect(Object.keys(versions()).sort()).toEqual(['cross-solo5', 'dune', 'mirage', 'ocaml', 'source']);
    expect(JSON.parse(m.ws.read('.nx-mirage/toolchain.json')).versions['ocamlfind -toolchain solo5']).toBe('4.13.1+solo5-test');
  });

  it('has no cross compiler file where no target needs one', async () => {
    defaultWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { target: 'unix' } }] });
    writeUnikernel(m.ws, 'uk', 'uk');
    expect(await runToolchain()).toEqual({ success: true });
    expect(Object.keys(versions()).sort()).toEqual(['dune', 'mirage', 'ocaml', 'source']);
  });

  it('needs no mirage for OCaml libraries alone, and names mirage once there is a unikernel', async () => {
    m = new MirageWorkspace({ plugins: ['nx-mirage'] });
    // The stand-ins' PATH without the stand-in mirage.
    m.activate({ PATH: [DUNE_SPY_BIN, m.toolchain.env['PATH']].join(':') });
    writeSharedLibrary(m.ws);
    expect(await runToolchain()).toEqual({ success: true });
    expect(Object.keys(versions()).sort()).toEqual(['dune', 'ocaml', 'source']);

    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    writeUnikernel(m.ws, 'uk', 'uk');
    expect(await runToolchain()).toEqual({ success: false });
    expect(errors.mock.calls.flat().join('\n')).toMatch(/`mirage` was not found on PATH[^]*opam install 'mirage>=4\.11\.0'/);
  });
});
