/**
 * The project graph across languages: OCaml libraries, unikernels and a web app, connected so that
 * nx affected is exact and nx graph shows the edges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EWorkspace } from './workspace';

let ws: E2EWorkspace;

const unikernel = (dir: string, name: string, body: string) =>
  ws.write(`${dir}/config.ml`, `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n${body}\nlet () = register "${name}" [ main ]\n`);

async function affected(): Promise<string[]> {
  const r = await ws.nx(['show', 'projects', '--affected', '--base=HEAD', '--with-target=build']);
  if (r.exitCode !== 0) throw new Error(r.all);
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
  unikernel('unikernels/c', 'c', 'let main = main "Unikernel" job');
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
    expect(graph.dependencies['c']?.filter((d) => !d.target.startsWith('npm:'))).toEqual([]);
    ws.remove('graph.json');
  });

  it('a library change makes exactly its dependents affected', async () => {
    ws.write('libs/net/net.ml', 'let y = Base_lib.x + 1\n');
    expect(await affected()).toEqual(['a', 'net']);
    ws.write('libs/net/net.ml', 'let y = Base_lib.x\n');
    ws.write('libs/base/base_lib.ml', 'let x = 2\n');
    expect(await affected()).toEqual(['a', 'b', 'base_lib', 'net']);
    ws.write('libs/base/base_lib.ml', 'let x = 1\n');
  });

  it('a web app change makes exactly the unikernel that serves it affected', async () => {
    ws.write('apps/web/build.js', '// web, edited\n');
    expect(await affected()).toEqual(['site', 'web']);
    ws.write('apps/web/build.js', '// web\n');
  });
});
