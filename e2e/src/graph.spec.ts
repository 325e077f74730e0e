/**
 * The project graph across languages: OCaml libraries, unikernels and a web app, connected so that
 * nx affected is exact and nx graph shows the edges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EWorkspace } from './workspace';

let ws: E2EWorkspace;

/**
 * The lockfile and, as the lock target or nx sync writes it, its JSON view of package versions, with each
 * unikernel's locked closure as the pull target records it (here cstruct depends on fmt).
 */
function writeLock(duration: string, cstruct: string, fmt = '0.9.0', ocaml = '4.14.2') {
  ws.write('mirage.opam.locked', lockfile(duration, cstruct, fmt, ocaml));
  const closures = { a: ['ocaml'], b: ['ocaml'], c: ['duration', 'ocaml'], d: ['cstruct', 'fmt', 'ocaml'], site: ['ocaml'] };
  ws.writeJson('mirage.opam.locked.json', { cstruct, duration, fmt, ocaml, '@closures': closures });
}

const lockfile = (duration: string, cstruct: string, fmt: string, ocaml: string) =>
  `opam-version: "2.0"\nsynopsis: "opam-monorepo generated lockfile"\ndepends: [\n  "cstruct" {= "${cstruct}" & ?vendor}\n  "duration" {= "${duration}" & ?vendor}\n  "fmt" {= "${fmt}" & ?vendor}\n  "ocaml" {= "${ocaml}"}\n]\n`;

const unikernel = (dir: string, name: string, body: string) =>
  ws.write(`${dir}/config.ml`, `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n${body}\nlet () = register "${name}" [ main ]\n`);

async function affected(): Promise<string[]> {
  const r = await ws.nx(['show', 'projects', '--affected', '--base=HEAD', '--with-target=build']);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.all}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  ws = await E2EWorkspace.create({ plugins: ['nx-mirage'], namedInputs: { default: ['{projectRoot}/**/*'], production: ['default'] } });
  ws.write('libs/base/dune', '(library (name base_lib) (public_name acme.base))\n');
  ws.write('libs/base/base_lib.ml', 'let x = 1\n');
  ws.write('libs/net/dune', '(library (name net) (libraries acme.base))\n');
  ws.write('libs/net/net.ml', 'let y = Base_lib.x\n');
  unikernel('unikernels/a', 'a', 'let main = main ~local_libs:[ "net" ] "Unikernel" job');
  unikernel('unikernels/b', 'b', 'let main = main ~local_libs:[ "base_lib" ] "Unikernel" job');
  unikernel('unikernels/c', 'c', 'let main = main "Unikernel" job ~packages:[ package "duration" ]');
  unikernel('unikernels/d', 'd', 'let main = main "Unikernel" job ~packages:[ package "cstruct" ]');
  writeLock('0.2.1', '6.2.0');
  unikernel('unikernels/site', 'site', 'let data = generic_kv_ro "../../apps/web/dist"\nlet main = main "Unikernel.Main" (kv_ro @-> job) $ data');
  ws.writeJson('apps/web/package.json', { name: 'web', version: '1.0.0', scripts: { build: 'node build.js' } });
  ws.write('apps/web/build.js', '// web\n');
  await ws.commit('graph');
});

afterAll(() => ws?.cleanup());

describe('project graph', () => {
  it('nx graph --file contains the library, unikernel and web app edges', async () => {
    const r = await ws.nx(['graph', '--file=graph.json']);
    expect(r.exitCode).toBe(0);
    const { graph } = JSON.parse(ws.read('graph.json')) as { graph: { nodes: Record<string, { type: string }>; dependencies: Record<string, Array<{ target: string; type: string }>> } };
    expect(graph.nodes['base_lib']?.type).toBe('lib');
    expect(graph.dependencies['a']).toContainEqual({ source: 'a', target: 'net', type: 'static' });
    expect(graph.dependencies['b']).toContainEqual({ source: 'b', target: 'base_lib', type: 'static' });
    expect(graph.dependencies['net']).toContainEqual({ source: 'net', target: 'base_lib', type: 'static' });
    expect(graph.dependencies['site']).toContainEqual({ source: 'site', target: 'web', type: 'static' });
    ws.remove('graph.json');
  });

  it('opam packages are external nodes with their locked versions, and edges from the projects that use them', async () => {
    // nx graph --file leaves external nodes out; the project graph API has them.
    const script = "require('nx/src/project-graph/project-graph').createProjectGraphAsync().then((g) => console.log(JSON.stringify({ c: g.dependencies.c, d: g.dependencies.d, duration: g.externalNodes['opam:duration'], runtime: g.externalNodes['opam:mirage-runtime'] })))";
    const { execa } = await import('execa');
    const r = await execa(process.execPath, ['-e', script], { cwd: ws.root, env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
    const g = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(g.c).toEqual([{ source: 'c', target: 'opam:duration', type: 'static' }]);
    expect(g.d).toEqual([{ source: 'd', target: 'opam:cstruct', type: 'static' }]);
    expect(g.duration).toMatchObject({ type: 'opam', name: 'opam:duration', data: { packageName: 'duration', version: '0.2.1' } });
    expect(g.runtime).toMatchObject({ data: { version: 'unlocked' } });
  });

  it('a library change makes exactly its dependents affected', async () => {
    ws.write('libs/net/net.ml', 'let y = Base_lib.x + 1\n');
    expect(await affected()).toEqual(['a', 'net']);
    ws.write('libs/net/net.ml', 'let y = Base_lib.x\n');
    ws.write('libs/base/base_lib.ml', 'let x = 2\n');
    expect(await affected()).toEqual(['a', 'b', 'base_lib', 'net']);
    ws.write('libs/base/base_lib.ml', 'let x = 1\n');
  });

  it('a lockfile bump makes exactly the projects that use the bumped package affected', async () => {
    writeLock('0.2.2', '6.2.0');
    expect(await affected()).toEqual(['c']);
    writeLock('0.2.1', '6.3.0');
    expect(await affected()).toEqual(['d']);
    writeLock('0.2.1', '6.2.0');
  });

  it('follows each unikernel\'s locked closure: a package used only through another, and the compiler, which every build reads', async () => {
    writeLock('0.2.1', '6.2.0', '0.9.1');
    expect(await affected()).toEqual(['d']);
    writeLock('0.2.1', '6.2.0', '0.9.0', '4.14.3');
    expect(await affected()).toEqual(['a', 'b', 'c', 'd', 'site']);
    writeLock('0.2.1', '6.2.0');
  });

  it('a web app change makes exactly the unikernel that serves it affected', async () => {
    ws.write('apps/web/build.js', '// web, edited\n');
    expect(await affected()).toEqual(['site', 'web']);
    ws.write('apps/web/build.js', '// web\n');
  });
});
