/**
 * Repository layouts users already have, through real Nx: one unikernel at the repository root (as most
 * published unikernels are), with or without the user's own root dune-project; a repository that already
 * holds several unikernels, its own root dune-project and Makefile, taken over by `nx add nx-mirage` and built
 * in CI without an `nx sync`; a unikernel and a local library of one name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import { standinEnv, type StandinEnv } from './standins';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

/** A workspace with nx-mirage installed (not yet added), and the stand-ins. */
async function workspace(): Promise<{ ws: E2EWorkspace; tools: StandinEnv; nx: (args: string[]) => Promise<string> }> {
  const ws = await E2EWorkspace.create({}, false);
  const dir = mkdtempSync(join(tmpdir(), 'nx-mirage-e2e-tools-'));
  const tools = standinEnv(dir, true);
  cleanups.push(() => ws.cleanup(), () => rmSync(dir, { recursive: true, force: true }));
  const nx = async (args: string[]) => (await ws.nxOk(args, tools.env)).all;
  return { ws, tools, nx };
}

const helloConfig = (name: string, extra = '') =>
  `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n\nlet main = main "Unikernel" job${extra}\nlet () = register "${name}" [ main ]\n`;

async function gitStatus(ws: E2EWorkspace): Promise<string[]> {
  const { stdout } = await execa('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ws.root });
  return stdout.split('\n').filter(Boolean);
}

describe('a unikernel at the repository root', () => {
  for (const ownDuneProject of [false, true]) {
    it(`is inferred, configured, built, run and cleaned${ownDuneProject ? ', beside the user\'s own root dune-project' : ''}`, async () => {
      const { ws, tools, nx } = await workspace();
      ws.write('config.ml', helloConfig('hello'));
      ws.write('unikernel.ml', 'let start () = print_endline "hello from the root"\n');
      ws.write('lib/dune', '(library (name greet))\n');
      ws.write('lib/greet.ml', 'let x = 1\n');
      if (ownDuneProject) ws.write('dune-project', '(lang dune 2.9)\n(name hello)\n');
      ws.write('.gitignore', 'node_modules\n.nx\n_build/\nduniverse/\n.nx-mirage/\n/dune\n/dune.build\n/dune.config\n/dist/\n/mirage/*\n!/mirage/*.opam.locked\n');
      await ws.commit('a unikernel at the root');
      await nx(['add', `nx-mirage@file:${ws.tarball}`]);
      if (ownDuneProject) expect(ws.read('dune-project')).toBe('(lang dune 2.9)\n(name hello)\n');
      const nxJson = JSON.parse(ws.read('nx.json'));
      nxJson.plugins = [{ plugin: 'nx-mirage', options: { target: 'unix' } }];
      ws.writeJson('nx.json', nxJson);

      const hello = JSON.parse((await ws.nx(['show', 'project', 'hello', '--json'], tools.env)).stdout);
      expect(hello.root).toBe('.');
      expect(Object.keys(hello.targets).sort()).toEqual(['build', 'clean', 'configure', 'locked-versions', 'run', 'serve', 'verify']);
      // Its build reads its sources, not the npm side of the repository.
      const inputs = JSON.parse((await ws.nx(['show', 'target', 'inputs', 'hello:build', '--json'], tools.env)).stdout) as { files: string[] };
      expect(inputs.files).toEqual(expect.arrayContaining(['config.ml', 'unikernel.ml']));
      expect(inputs.files.filter((f) => /package(-lock)?\.json$/.test(f) || f.startsWith('lib/'))).toEqual([]);

      await nx(['build', 'hello']);
      expect(existsSync(join(ws.root, 'dist/hello'))).toBe(true);
      expect(JSON.parse(ws.read('dist/hello.manifest.json'))).toMatchObject({ unikernel: 'hello', target: 'unix', artifact: 'hello' });
      // mirage's root dune file, with node_modules kept out of dune's sight as nx-mirage's own would.
      expect(ws.read('dune')).toContain('(include dune.build)');
      expect(ws.read('dune')).toContain('(dirs :standard \\ node_modules)');
      // No stray root Makefile from mirage: what is left is ignored or committed.
      expect(existsSync(join(ws.root, 'Makefile'))).toBe(false);
      expect((await gitStatus(ws)).filter((l) => !/ (nx\.json|package(-lock)?\.json|\.gitignore|dune-workspace|dune-project|mirage\.opam\.locked(\.json)?)$/.test(l))).toEqual([]);

      const run = await ws.nx(['run', 'hello:run'], tools.env);
      expect(run.all).toContain('hello from the root');

      // Building the library in the same root keeps working after clean, which removes only the unikernel's files.
      await nx(['build', 'greet']);
      await nx(['run', 'hello:clean']);
      for (const f of ['dist/hello', 'dist/hello.manifest.json', 'dune.build', 'mirage/context', '_build/default/hello']) {
        expect(existsSync(join(ws.root, f)), f).toBe(false);
      }
      expect(existsSync(join(ws.root, '_build/default/lib'))).toBe(true);
      expect(existsSync(join(ws.root, 'config.ml'))).toBe(true);
      await nx(['build', 'hello']);
      expect(existsSync(join(ws.root, 'dist/hello'))).toBe(true);
    });
  }
});

describe('a repository with unikernels, its own root dune-project and Makefile', () => {
  it('builds in CI right after nx add nx-mirage, without nx sync, and leaves the user\'s files alone', async () => {
    const { ws, nx } = await workspace();
    ws.write('dune-project', '(lang dune 2.9)\n(name skeleton)\n');
    ws.write('Makefile', 'all:\n\t@echo "the user\'s own Makefile"\n');
    for (const name of ['alpha', 'beta']) {
      ws.write(`${name}/config.ml`, helloConfig(name));
      ws.write(`${name}/unikernel.ml`, `let start () = print_endline "${name}"\n`);
    }
    ws.write('.gitignore', 'node_modules\n.nx\n_build/\nduniverse/\n*/dune\n*/dune.build\n*/dune.config\n*/dist/\n*/mirage/*\n!*/mirage/*.opam.locked\n');
    await ws.commit('unikernels');
    await nx(['add', `nx-mirage@file:${ws.tarball}`]);
    // init wrote a dune-workspace with the contexts the hvt unikernels need, so CI is not "out of sync".
    expect(ws.read('dune-workspace')).toContain('(name solo5)');
    await ws.commit('nx add nx-mirage');
    const out = await nx(['run-many', '-t', 'build']);
    expect(out).toContain('Successfully ran target build for 2 projects');
    expect(ws.read('dune-project')).toBe('(lang dune 2.9)\n(name skeleton)\n');
    expect(ws.read('Makefile')).toBe('all:\n\t@echo "the user\'s own Makefile"\n');
    expect((await gitStatus(ws)).filter((l) => !/mirage\.opam\.locked(\.json)?$/.test(l))).toEqual([]);
  });
});

describe('a repository with its own dune-workspace', () => {
  it('fails nx sync:check, and tasks before they start, while it lacks a context a unikernel needs', async () => {
    const { ws, nx } = await workspace();
    ws.write('dune-workspace', '(lang dune 2.9)\n(context default)\n');
    ws.write('apps/hello/config.ml', helloConfig('hello'));
    ws.write('apps/hello/unikernel.ml', 'let start () = print_endline "hello"\n');
    await ws.commit('own dune-workspace');
    const added = await nx(['add', `nx-mirage@file:${ws.tarball}`]);
    expect(added).toContain('dune-workspace is yours');
    await ws.commit('nx add nx-mirage');
    const check = await ws.nx(['sync:check']);
    expect(check.exitCode).not.toBe(0);
    expect(check.all).toContain('dune-workspace is yours (it has no');
    expect(check.all).toContain('lacks the solo5 context that the targets in use (hvt) need');
    const build = await ws.nx(['build', 'hello'], { CI: 'false' });
    expect(build.exitCode).not.toBe(0);
    expect(build.all).toContain('lacks the solo5 context');
    expect(existsSync(join(ws.root, 'apps/hello/mirage'))).toBe(false);
    expect(ws.read('dune-workspace')).toBe('(lang dune 2.9)\n(context default)\n');
  });
});

describe('a unikernel and a local library of one name', () => {
  it('gives the library a project name of its own, and builds the unikernel with it', async () => {
    const { ws, nx } = await workspace();
    ws.write('apps/hello/config.ml', helloConfig('hello', ' ~local_libs:[ "hello" ]'));
    ws.write('apps/hello/unikernel.ml', 'let start () = print_endline Hello.greeting\n');
    ws.write('libs/hello/dune', '(library (name hello))\n');
    ws.write('libs/hello/hello.ml', 'let greeting = "hello from the library"\n');
    await ws.commit('clash');
    await nx(['add', `nx-mirage@file:${ws.tarball}`]);
    const projects = (await nx(['show', 'projects'])).split('\n');
    expect(projects).toEqual(expect.arrayContaining(['hello', 'hello-lib', '@nx-mirage']));
    const graph = JSON.parse((await ws.nx(['graph', '--file=stdout'])).stdout) as { graph: { dependencies: Record<string, Array<{ target: string }>> } };
    expect(graph.graph.dependencies['hello']!.map((d) => d.target)).toContain('hello-lib');
    await nx(['build', 'hello']);
    expect(existsSync(join(ws.root, 'apps/hello/dist/hello.hvt'))).toBe(true);
  });
});
