import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../src/executors/log';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { HIDDEN_DUNIVERSE } from '../src/adapters/duniverse';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import configureExecutor from '../src/executors/configure/executor';
import lockExecutor from '../src/executors/lock/executor';
import pullExecutor from '../src/executors/pull/executor';
import installSwitchExecutor from '../src/executors/install-switch/executor';
import buildExecutor from '../src/executors/build/executor';
import toolchainExecutor from '../src/executors/toolchain/executor';
import { stampDigest } from '../src/adapters/stamp';
import { DEPENDS_ENV, dependsStampId, dependsStampPath } from '../src/domain';
import { createOfflineOpam, type OfflineOpam } from './fixtures/standins/offline-opam';
import { MirageWorkspace } from './mirage-workspace';

let m: MirageWorkspace;
let opam: OfflineOpam;
let log: string;

function vendoredLibrary(name: string, text: string) {
  const dir = join(opam.sources, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'dune'), `(library (name ${name}))\n`);
  writeFileSync(join(dir, `${name}.ml`), `let text = ${JSON.stringify(text)}\n`);
}

function unikernelUsing(dir: string, name: string, pkg: string) {
  m.ws.write(`${dir}/config.ml`, `open Mirage\nlet main = main "Unikernel" job ~packages:[ package "${pkg}" ]\nlet () = register "${name}" [ main ]\n`);
  m.ws.write(`${dir}/unikernel.ml`, `let start () = print_endline ${pkg[0]!.toUpperCase()}${pkg.slice(1)}.text\n`);
}

async function run<O>(executor: (o: O, c: ExecutorContext) => Promise<{ success: boolean }>, project: string, target: string, extra: object = {}) {
  const ctx = await m.context(project);
  return executor({ ...(ctx.projectsConfigurations.projects[project]!.targets![target]!.options as object), ...extra } as O, ctx);
}

const monorepoCalls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

function setup(lockScope: 'unikernel' | 'workspace') {
  m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { target: 'unix', lockScope } }] });
  opam = createOfflineOpam(m.ws.path('.opam'));
  log = m.ws.path('.opam-monorepo.log');
  m.activate({ ...opam.env, OPAM_MONOREPO_STANDIN_LOG: log, MIRAGE_STANDIN_LOG: m.ws.path('.mirage.log') });
  m.ws.write('.gitignore', '.toolchain\n_build\n.opam\n');
  vendoredLibrary('greeting', 'hello from a vendored library');
}

afterEach(() => m?.cleanup());

const ROOT = '@nx-mirage';

describe('depends with one lockfile per unikernel (mirage Makefile)', () => {
  beforeEach(() => setup('unikernel'));

  it('locks, installs switch tools, pulls into DIR/duniverse and builds with the vendored library', async () => {
    unikernelUsing('uk', 'uk', 'greeting');
    expect(await run(configureExecutor, 'uk', 'configure')).toEqual({ success: true });
    expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: true });
    const lock = m.ws.read('uk/mirage/uk-unix.opam.locked');
    expect(lock).toContain('"greeting" {= "1.0.0" & ?vendor}');
    expect(monorepoCalls()[0]).toMatch(/^lock --require-cross-compile --build-only uk-unix -l uk\/mirage\/uk-unix.opam.locked --ocaml-version \d/);

    expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: true });
    expect(monorepoCalls()).toHaveLength(1); // up to date: not locked again
    expect(await run(lockExecutor, ROOT, 'lock', { force: true })).toEqual({ success: true });
    expect(monorepoCalls()).toHaveLength(2);

    expect(await run(installSwitchExecutor, ROOT, 'install-switch')).toEqual({ success: true });
    expect(execFileSync('opam', ['list', '--installed', '--short', 'mirage'], { env: process.env, encoding: 'utf8' }).trim()).toBe('mirage');

    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    expect(existsSync(m.ws.path('uk/duniverse/greeting/greeting.ml'))).toBe(true);
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    expect(monorepoCalls().filter((c) => c.startsWith('pull'))).toHaveLength(1); // the same lockfile is not pulled again

    expect(await run(buildExecutor, 'uk', 'build')).toEqual({ success: true });
    expect(execFileSync(m.ws.path('uk/dist/uk'), { encoding: 'utf8' })).toBe('hello from a vendored library\n');
  });

  it('without opam-monorepo, lock says what to install, and so does the toolchain report', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    unikernelUsing('uk', 'uk', 'greeting');
    // A real opam root without the opam-monorepo plugin.
    const bare = m.ws.path('.bare-opam');
    m.ws.write('.bare-opam/repo/repo', 'opam-version: "2.0"\n');
    execFileSync('opam', ['init', '--bare', '--disable-sandboxing', '-n', 'local', join(bare, 'repo')], { env: { ...process.env, OPAMROOT: join(bare, 'root') }, stdio: 'pipe' });
    m.activate({ ...opam.env, OPAMROOT: join(bare, 'root'), OPAMSWITCH: undefined });
    try {
      expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toBe(
        'opam-monorepo is not installed: `opam monorepo lock` is a command of the opam-monorepo plugin, which this opam does not have. ' +
          'Install it with: opam install opam-monorepo (or, when every library the unikernels use is installed in the opam switch, set "monorepo": false in the nx-mirage options of nx.json).',
      );
      expect(await run(toolchainExecutor, ROOT, 'toolchain')).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toContain('- `opam-monorepo` was not found on PATH; it is needed to lock and vendor unikernel dependencies (the opam plugin `opam monorepo`)');
    } finally {
      error.mockRestore();
    }
  });

  it('pull locks first when nothing is locked yet, and configures what is not configured', async () => {
    unikernelUsing('uk', 'uk', 'greeting');
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    expect(monorepoCalls().map((c) => c.split(' ')[0])).toEqual(['lock', 'pull']);
    expect(existsSync(m.ws.path('uk/duniverse/greeting/greeting.ml'))).toBe(true);
  });

});

describe('depends with one lockfile for the workspace (mirage-skeleton)', () => {
  beforeEach(() => setup('workspace'));

  it('configures what is not configured, locks all unikernels together, pulls one duniverse once, and builds both', async () => {
    vendoredLibrary('farewell', 'bye from another vendored library');
    unikernelUsing('a', 'a', 'greeting');
    unikernelUsing('b', 'b', 'farewell');
    expect(await run(configureExecutor, 'a', 'configure')).toEqual({ success: true });
    const configures = () => readFileSync(m.ws.path('.mirage.log'), 'utf8').trim().split('\n').filter((l) => l.includes('\tconfigure '));
    // b is not configured yet: the lock configures it (and only it) first.
    expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: true });
    expect(configures().map((l) => l.split('\t')[1])).toEqual(['configure -f a/config.ml -t unix', 'configure -f b/config.ml -t unix']);
    expect(monorepoCalls()).toHaveLength(1);
    expect(monorepoCalls()[0]).toMatch(/^lock --recurse-opam a-unix b-unix --build-only --ocaml-version \S+ -l mirage.opam.locked$/);
    const lock = m.ws.read('mirage.opam.locked');
    expect(lock).toContain('"greeting" {= "1.0.0" & ?vendor}');
    expect(lock).toContain('"farewell" {= "1.0.0" & ?vendor}');
    // The JSON view of package versions that inputs select from (nx affected compares its fields).
    expect(JSON.parse(m.ws.read('mirage.opam.locked.json'))).toMatchObject({ farewell: '1.0.0', greeting: '1.0.0' });
    // A configure task of the same run finds b configured from the same config.ml and runs no mirage.
    expect(await run(configureExecutor, 'b', 'configure')).toEqual({ success: true });
    expect(configures()).toHaveLength(2);

    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    expect(monorepoCalls().filter((c) => c.startsWith('pull'))).toEqual([`pull -l mirage.opam.locked -r ${m.ws.root}`]);
    expect(existsSync(m.ws.path('duniverse/farewell/farewell.ml'))).toBe(true);
    // The pull records each unikernel's locked closure: mirage-runtime (which every unikernel links) brings fmt.
    const closures = JSON.parse(m.ws.read('mirage.opam.locked.json'))['@closures'];
    expect(closures['a']).toEqual(expect.arrayContaining(['fmt', 'greeting', 'mirage-runtime']));
    expect(closures['a']).not.toContain('farewell');
    expect(closures['b']).toEqual(expect.arrayContaining(['farewell', 'fmt', 'mirage-runtime']));

    for (const p of ['a', 'b']) expect(await run(buildExecutor, p, 'build')).toEqual({ success: true });
    expect(execFileSync(m.ws.path('b/dist/b'), { encoding: 'utf8' })).toBe('bye from another vendored library\n');
  });

  it('configures again after a pull into the dune root, where mirage alone fails on the vendored libraries', async () => {
    unikernelUsing('a', 'a', 'greeting');
    expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: true });
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    // Every lock vendors fmt (mirage-runtime depends on it), which the installed mirage library uses too.
    expect(existsSync(m.ws.path('duniverse/fmt/src/fmt.ml'))).toBe(true);
    m.ws.write('a/config.ml', m.ws.read('a/config.ml') + '(* edited after the pull *)\n');
    // mirage on its own, as nx-mirage ran it before: config.exe sees the root duniverse.
    const alone = spawnSync('mirage', ['configure', '-f', 'a/config.ml', '-t', 'unix'], { cwd: m.ws.root, encoding: 'utf8' });
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain('Error: Conflict between the following libraries:\n- "fmt" in _build/default/duniverse/fmt/src');
    expect(alone.stderr).toContain("run ['dune' 'build' 'a/config.exe' '--root' '.' '--workspace'");
    // nx-mirage hides the duniverse for the time of the configure, and puts it back.
    expect(await run(configureExecutor, 'a', 'configure')).toEqual({ success: true });
    expect(m.ws.read('a/dune')).toContain('(include dune.build)');
    expect(existsSync(m.ws.path('duniverse/fmt/src/fmt.ml'))).toBe(true);
    expect(readdirSync(m.ws.root).filter((f) => f.includes('duniverse'))).toEqual(['duniverse']);
    expect(await run(buildExecutor, 'a', 'build')).toEqual({ success: true });
    expect(execFileSync(m.ws.path('a/dist/a'), { encoding: 'utf8' })).toBe('hello from a vendored library\n');
  });

  it('puts back a duniverse that a killed configure left hidden', async () => {
    unikernelUsing('a', 'a', 'greeting');
    expect(await run(lockExecutor, ROOT, 'lock')).toEqual({ success: true });
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    renameSync(m.ws.path('duniverse'), m.ws.path(HIDDEN_DUNIVERSE));
    expect(await run(buildExecutor, 'a', 'build')).toEqual({ success: true });
    expect(existsSync(m.ws.path('duniverse/greeting/greeting.ml'))).toBe(true);
    expect(existsSync(m.ws.path(HIDDEN_DUNIVERSE))).toBe(false);
  });

  it('leaves a unikernel whose config.ml is broken out of the lock, says why, and locks the others', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    unikernelUsing('a', 'a', 'greeting');
    m.ws.write('broken/config.ml', 'open Mirage\nlet main = main "Unikernel" job ~packages:[ package "greeting" ]\nlet () = register "broken" [ main ]\n');
    m.ws.write('broken/unikernel.ml', 'let start () = ()\n');
    // Inferred, then broken: mirage fails on it as on a config.ml that does not compile.
    const ctx = await m.context(ROOT);
    m.ws.write('broken/config.ml', 'open Mirage\nlet main = main "Unikernel" job ~packages:[ package "greeting" ]\nlet () = register "broken" [ main ] +\n');
    expect(await lockExecutor({ duneRoot: '.', scope: 'workspace' }, ctx)).toEqual({ success: true });
    expect(monorepoCalls()[0]).toMatch(/^lock --recurse-opam a-unix --build-only /);
    const warning = warn.mock.calls.map((c) => String(c[0])).find((w) => w.includes('broken/config.ml'));
    expect(warning).toMatch(/^nx-mirage: broken\/config.ml could not be configured, so it is left out\. nx run broken:configure shows why:\n/);
    warn.mockRestore();
  });
  it('leaves a stamp that holds while nothing pull read changed, and breaks on each thing it read', async () => {
    unikernelUsing('uk', 'uk', 'greeting');
    unikernelUsing('other', 'other', 'greeting');
    const digest = () => stampDigest(m.ws.root, dependsStampPath(dependsStampId('.')), DEPENDS_ENV);
    expect(await digest()).toMatch(/^changed /); // never pulled: the task must run
    expect(await run(pullExecutor, ROOT, 'pull')).toEqual({ success: true });
    const pulled = await digest();
    expect(pulled).toMatch(/^stamp [0-9a-f]{64}$/);
    // Building reads what pull left and changes none of it.
    expect(await run(buildExecutor, 'uk', 'build')).toEqual({ success: true });
    expect(await digest()).toBe(pulled);
    // Editing a unikernel's code is the build's business, not pull's.
    m.ws.write('uk/unikernel.ml', 'let start () = print_endline "edited"\n');
    expect(await digest()).toBe(pulled);
    // A config.ml edit: configure and lock may have work, so the stamp no longer holds; a pull that changed nothing stamps the same again.
    const config = m.ws.read('other/config.ml');
    m.ws.write('other/config.ml', `${config}(* edited *)\n`);
    expect(await digest()).toMatch(/^changed /);
    m.ws.write('other/config.ml', config);
    expect(await digest()).toBe(pulled);
    // The vendored sources going away, or another lockfile.
    renameSync(m.ws.path('duniverse'), m.ws.path('duniverse.moved'));
    expect(await digest()).toMatch(/^changed /);
    renameSync(m.ws.path('duniverse.moved'), m.ws.path('duniverse'));
    expect(await digest()).toBe(pulled);
    m.ws.write('mirage.opam.locked', `${m.ws.read('mirage.opam.locked')}\n`);
    expect(await digest()).toMatch(/^changed /);
    // mirage's extra repositories change what configure writes.
    expect(await stampDigest(m.ws.root, dependsStampPath(dependsStampId('.')), DEPENDS_ENV, { ...process.env, MIRAGE_EXTRA_REPOS: 'none' })).toMatch(/^changed /);
  });
});
