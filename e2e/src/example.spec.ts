/**
 * The README's first command: `npm run example` builds the example workspace (examples/) end to end. Here with
 * NX_MIRAGE_STANDIN=1, as on any machine without Solo5: the managed toolchain comes from the test stand-ins.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { E2EWorkspace, repoRoot } from './workspace';

const script = ['node_modules/tsx/dist/cli.mjs', 'tools/example.mts'];
const systemPath = ['/usr/local/bin', '/usr/bin', '/bin'].join(':');
const nodeDir = join(process.execPath, '..');

describe('npm run example', () => {
  it('with the stand-ins, builds the web app, the library and the hello unikernel, and says where, which ABI and how big', async () => {
    const r = await execa(process.execPath, script, {
      cwd: repoRoot,
      reject: false,
      all: true,
      env: { NX_MIRAGE_STANDIN: '1', NX_MIRAGE_EXAMPLE_PLUGIN_BUILT: '1', PATH: `${nodeDir}:${systemPath}`, OCAMLFIND_CONF: '', OPAMROOT: '', OPAMSWITCH: '' },
    });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/nx-mirage toolchain: managed opam switch .*examples\/.nx-mirage\/toolchain/);
    expect(r.all).toMatch(/examples\/unikernels\/hello\/dist\/hello\.hvt\n {6}hello: Solo5 hvt ABI v2, [\d.]+ KiB, no devices, sha256 [0-9a-f]{12}/);
    expect(r.all).toMatch(/examples\/apps\/web\/dist\/index\.html\n {6}web: static site/);
    // hello links the OCaml library of the example (the rules configure generated; the build may come from
    // Nx's cache, which is shared by clones of this repository on one machine, so _build may not exist).
    expect(readFileSync(join(repoRoot, 'examples/unikernels/hello/config.ml'), 'utf8')).toContain('~local_libs:[ "greeting" ]');
    expect(readFileSync(join(repoRoot, 'examples/unikernels/hello/dune.build'), 'utf8')).toMatch(/\(libraries[^)]*\bgreeting\b/);
  });

  it('without mirage or opam, stops with the commands that get a toolchain', async () => {
    const r = await execa(process.execPath, script, { cwd: repoRoot, reject: false, all: true, env: { PATH: `${nodeDir}:/nonexistent` } });
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain('sudo apt-get install opam');
    expect(r.all).toContain('NX_MIRAGE_STANDIN=1 npm run example');
  });
});

describe('examples/', () => {
  let ws: E2EWorkspace | undefined;
  afterAll(() => ws?.cleanup());

  it("is what nx-mirage's generators make (plus the one edit the README names)", async () => {
    ws = await E2EWorkspace.create({}, false);
    for (const f of ['apps/web/package.json', 'apps/web/build.mjs', 'apps/web/src/index.html']) ws.write(f, readFileSync(join(repoRoot, 'examples', f), 'utf8'));
    await ws.commit('web app');
    const run = async (args: string[]) => {
      const r = await ws!.nx(args);
      expect(r.exitCode, r.all).toBe(0);
    };
    await run(['add', `nx-mirage@file:${ws.tarball}`]);
    await run(['g', 'nx-mirage:unikernel', 'hello', '--directory=unikernels/hello']);
    await run(['g', 'nx-mirage:library', 'greeting', '--unikernel=hello']);
    await run(['g', 'nx-mirage:unikernel', 'site', '--template=website', '--serve=web', '--directory=unikernels/site']);
    const example = (f: string) => readFileSync(join(repoRoot, 'examples', f), 'utf8');
    for (const f of [
      'dune-project',
      'dune-workspace',
      'dune',
      'libs/greeting/dune',
      'libs/greeting/greeting.ml',
      'libs/greeting/greeting.mli',
      'unikernels/hello/config.ml',
      'unikernels/hello/.gitignore',
      'unikernels/site/config.ml',
      'unikernels/site/unikernel.ml',
      'unikernels/site/project.json',
      'unikernels/site/.gitignore',
    ]) {
      expect(ws.read(f), f).toBe(example(f));
    }
    // The edit: hello logs the library's greeting.
    expect(ws.read('unikernels/hello/unikernel.ml').replace('f "hello from hello"', 'f "%s" (Greeting.greeting "hello")')).toBe(example('unikernels/hello/unikernel.ml'));
    const plugin = (nxJson: string) => (JSON.parse(nxJson).plugins as Array<{ plugin: string; options: unknown }>).find((p) => p.plugin === 'nx-mirage');
    expect(plugin(ws.read('nx.json'))).toEqual(plugin(example('nx.json')));
  });
});
