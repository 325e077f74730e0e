/**
 * The environment e2e workspaces run nx in: the test stand-ins for mirage, the solo5 toolchain and
 * opam-monorepo (in a real, offline opam root), a spy on the real dune, and an isolated dune cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIRAGE_STANDIN_BIN, createSolo5Toolchain, type Solo5Toolchain } from '../../packages/nx-mirage/test/fixtures/standins/solo5-toolchain';
import { createOfflineOpam } from '../../packages/nx-mirage/test/fixtures/standins/offline-opam';
import { standinMirageFindlibPath } from '../../packages/nx-mirage/test/fixtures/standins/mirage-findlib';

export const DUNE_SPY = join(__dirname, '..', '..', 'packages', 'nx-mirage', 'test', 'fixtures', 'dune-spy');

export interface StandinEnv {
  env: Record<string, string>;
  toolchain: Solo5Toolchain;
  /** Arguments of every real `dune build` so far. */
  duneBuilds(): string[];
}

export function standinEnv(dir: string, withOpam = false): StandinEnv {
  const toolchain = createSolo5Toolchain(join(dir, 'toolchain'));
  const spyLog = join(dir, 'dune-spy.log');
  const opam = withOpam ? createOfflineOpam(join(dir, 'opam')).env : {};
  const env = {
    ...toolchain.env,
    ...opam,
    PATH: [DUNE_SPY, MIRAGE_STANDIN_BIN, toolchain.env['PATH']].join(':'),
    DUNE_SPY_LOG: spyLog,
    XDG_CACHE_HOME: join(dir, 'xdg-cache'),
    OCAMLPATH: [standinMirageFindlibPath(), process.env['OCAMLPATH']].filter(Boolean).join(':'),
  };
  return {
    env,
    toolchain,
    duneBuilds: () =>
      existsSync(spyLog)
        ? readFileSync(spyLog, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('start\t') && l.includes('\tbuild ') && !l.includes('config.exe'))
            .map((l) => l.split('\t')[3]!)
        : [],
  };
}
