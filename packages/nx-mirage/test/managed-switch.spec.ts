/**
 * The managed toolchain against real opam 2.1, offline: a local file:// repository of fixture packages
 * (stand-ins for mirage, solo5, ocaml-solo5, opam-monorepo; the system compiler, dune and findlib).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ToolchainError, ensureManagedSwitch, recordedSwitch } from '../src/adapters/managed-switch';
import { mergeRequirements, predictedSwitchPackages, toolchainKey, type ToolchainSpec } from '../src/domain';
import { createOpamSpy, createStandinRepository, type OpamSpy, type StandinRepository } from './fixtures/standins/offline-opam';
import { TempWorkspace } from './temp-workspace';

let tmp: TempWorkspace;
let repo: StandinRepository;
let spy: OpamSpy;
const savedPath = process.env['PATH'];
const opamCalls = () => spy.calls();

function spec(target: 'unix' | 'hvt', url = repo.url): ToolchainSpec {
  return { compiler: 'ocaml-system', repositories: [{ name: 'fixture', url }], packages: mergeRequirements([predictedSwitchPackages(target)]) };
}

const dir = () => tmp.path('toolchain');
const runIn = (env: Record<string, string>, tool: string, ...args: string[]) => execFileSync(tool, args, { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

beforeEach(() => {
  tmp = new TempWorkspace('nx-mirage-switch-');
  spy = createOpamSpy(tmp.path('spy'));
  process.env['PATH'] = `${spy.bin}:${savedPath}`;
});
afterEach(() => {
  process.env['PATH'] = savedPath;
  tmp.cleanup();
});

describe('managed opam switch', () => {
  beforeEach(() => {
    repo = createStandinRepository(tmp.path('fixture'));
  });

  it('is created on demand, reused without running opam for the same key, and updated in place for a new key', async () => {
    const created = await ensureManagedSwitch({ dir: dir(), spec: spec('unix') });
    expect(created.action).toBe('created');
    expect(created.key).toBe(toolchainKey(spec('unix')));
    expect(created.versions).toMatchObject({ mirage: '4.11.1', dune: repo.versions['dune'], 'opam-monorepo': '0.4.3', ocaml: repo.versions['ocaml'] });
    expect(created.versions['solo5']).toBeUndefined();
    // The switch's tools come first on PATH in its environment.
    expect(runIn(created.env, 'mirage', '--version')).toBe('v4.11.1');
    expect(created.env['PATH']!.startsWith(join(created.prefix, 'bin'))).toBe(true);
    expect(opamCalls().some((c) => c.startsWith('init '))).toBe(true);

    const callsAfterCreate = opamCalls().length;
    const reused = await ensureManagedSwitch({ dir: dir(), spec: spec('unix') });
    expect(reused.action).toBe('reused');
    expect(reused.versions).toEqual(created.versions);
    expect(opamCalls()).toHaveLength(callsAfterCreate);

    const updated = await ensureManagedSwitch({ dir: dir(), spec: spec('hvt') });
    expect(updated.action).toBe('updated');
    expect(updated.key).not.toBe(created.key);
    expect(updated.changes.sort()).toEqual(['ocaml-solo5: 1.3.2', 'solo5: 0.12.1']);
    const newCalls = opamCalls().slice(callsAfterCreate);
    expect(newCalls.filter((c) => /^(init|switch create)/.test(c))).toEqual([]);
    expect(newCalls.some((c) => c.startsWith('install '))).toBe(true);
    // ocaml-solo5 installed the solo5 findlib toolchain where dune looks for it.
    expect(runIn(updated.env, 'ocamlfind', '-toolchain', 'solo5', 'ocamlopt', '-version')).toBe(repo.versions['ocaml']);
    expect(existsSync(join(updated.prefix, 'lib', 'findlib.conf.d', 'solo5.conf'))).toBe(true);
  });

  it('says which repository it could not reach and leaves no opam root behind', async () => {
    const error = await ensureManagedSwitch({ dir: dir(), spec: spec('unix', `file://${tmp.path('no-such-repository')}`) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as Error).message).toMatch(/could not reach the repository "fixture" \(file:\/\/.*no-such-repository\)/);
    expect((error as Error).message).toMatch(/toolchain\.repositories/);
    expect(existsSync(join(dir(), 'opam'))).toBe(false);
  });

  it('never removes a directory it did not make: an opam/ that holds the user\'s files is refused and left alone', async () => {
    tmp.write('toolchain/opam/notes.txt', 'the user\'s own notes');
    const error = await ensureManagedSwitch({ dir: dir(), spec: spec('unix', `file://${tmp.path('no-such-repository')}`) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as Error).message).toBe(
      `${join(dir(), 'opam')} holds files and is not an opam root (it has no opam config), so nx-mirage does not make its toolchain there and leaves it alone. ` +
        'Move those files, or point the "toolchain.dir" option of nx.json (or NX_MIRAGE_TOOLCHAIN_DIR) at a directory of its own.',
    );
    expect(tmp.read('toolchain/opam/notes.txt')).toBe('the user\'s own notes');
  });

  it('names opam and how to install it when it is missing', async () => {
    process.env['PATH'] = '/nonexistent';
    const error = await ensureManagedSwitch({ dir: dir(), spec: spec('unix') }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/`opam` was not found on PATH.*\n.*apt-get install opam/);
  });
});

describe('managed opam switch, when a package fails to build', () => {
  beforeEach(() => {
    repo = createStandinRepository(tmp.path('fixture'), { broken: ['ocaml-solo5'] });
  });

  it('reports the failure and keeps the previous switch and key in use', async () => {
    const before = await ensureManagedSwitch({ dir: dir(), spec: spec('unix') });
    const error = await ensureManagedSwitch({ dir: dir(), spec: spec('hvt') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as Error).message).toMatch(/opam could not install the switch tools/);
    expect((error as Error).message).toMatch(/ocaml-solo5/);
    expect((error as Error).message).toContain(`The previous toolchain (key ${before.key}) is unchanged and still in use.`);
    const still = await recordedSwitch(dir(), before.key);
    expect(still?.versions).toEqual(before.versions);
    expect(runIn(still!.env, 'mirage', '--version')).toBe('v4.11.1');
  });
});
