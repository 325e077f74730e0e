import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CreateDependenciesContext, ProjectConfiguration } from '@nx/devkit';
import fg from 'fast-glob';
import { TempWorkspace } from '../../test/temp-workspace';
import { CONFIG_GLOB, createDependencies, createNodes } from './plugin';

let ws: TempWorkspace;

beforeEach(() => {
  ws = new TempWorkspace();
  ws.write('nx.json', '{}');
  process.env.NX_CACHE_PROJECT_GRAPH = 'false';
});

afterEach(() => {
  delete process.env.NX_CACHE_PROJECT_GRAPH;
  ws.cleanup();
});

async function graph(extraProjects: Record<string, ProjectConfiguration> = {}, changed?: string[]) {
  const files = (await fg(CONFIG_GLOB, { cwd: ws.root })).sort();
  const results = await createNodes[1](files, {}, { nxJsonConfiguration: { namedInputs: { production: ['default'] } }, workspaceRoot: ws.root });
  const projects: Record<string, ProjectConfiguration> = { ...extraProjects };
  for (const [, r] of results) for (const p of Object.values(r.projects ?? {})) projects[p.name!] = p as ProjectConfiguration;
  // Every file of the workspace, owned by the project with the deepest root that contains it, as Nx maps them.
  const all = (await fg('**/*', { cwd: ws.root, dot: false })).sort();
  const projectFileMap: Record<string, Array<{ file: string; hash: string }>> = {};
  const nonProjectFiles: Array<{ file: string; hash: string }> = [];
  for (const file of all) {
    const owner = Object.values(projects)
      .filter((p) => p.root === '.' || file.startsWith(`${p.root}/`))
      .sort((a, b) => b.root.length - a.root.length)[0];
    if (owner) (projectFileMap[owner.name!] ??= []).push({ file, hash: '0' });
    else nonProjectFiles.push({ file, hash: '0' });
  }
  const fileMap = { projectFileMap, nonProjectFiles };
  const only = (list: Array<{ file: string }>) => list.filter((f) => changed!.includes(f.file));
  const filesToProcess = changed
    ? { projectFileMap: Object.fromEntries(Object.entries(projectFileMap).map(([k, v]) => [k, only(v)])), nonProjectFiles: only(nonProjectFiles) }
    : fileMap;
  const context = { projects, fileMap, filesToProcess, externalNodes: {}, nxJsonConfiguration: {}, workspaceRoot: ws.root } as unknown as CreateDependenciesContext;
  return { projects, dependencies: await createDependencies({}, context) };
}

function uk(dir: string, name: string, extra = '') {
  ws.write(`${dir}/config.ml`, `open Mirage\n${extra}\nlet main = main "Unikernel" job\nlet () = register "${name}" [ main ]\n`);
  ws.write(`${dir}/unikernel.ml`, 'let start () = ()\n');
}

describe('OCaml library projects', () => {
  it('become projects with build, and test when the directory has tests', async () => {
    ws.write('libs/net/dune', '(library (name net) (public_name acme.net) (inline_tests))');
    ws.write('libs/util/dune', '(library (name util))');
    ws.write('_build/default/libs/util/dune', '(library (name util))');
    const { projects } = await graph();
    expect(Object.keys(projects).sort()).toEqual(['@nx-mirage', 'net', 'util']);
    // Without a unikernel there is no pull to wait for; the toolchain's version files (dune, the host compiler) are in the key.
    expect(projects['net']!.targets!['build']).toMatchObject({ executor: 'nx-mirage:build', options: { dir: 'libs/net' }, cache: true, dependsOn: ['^build', { projects: ['@nx-mirage'], target: 'toolchain' }] });
    expect(projects['net']!.targets!['build']!.inputs).toEqual(
      expect.arrayContaining(['{projectRoot}/**/*', '^production', { dependentTasksOutputFiles: '.nx-mirage/versions/{source,dune,ocaml}' }, { externalDependencies: [] }]),
    );
    expect(projects['net']!.targets!['test']).toMatchObject({ options: { action: 'test' } });
    expect(projects['util']!.targets!['test']).toBeUndefined();
    expect(projects['util']!.targets!['format']).toBeUndefined();
  });

  it('get a format target when ocamlformat is configured', async () => {
    ws.write('.ocamlformat', 'profile = default\n');
    ws.write('libs/util/dune', '(library (name util))');
    expect((await graph()).projects['util']!.targets!['format']).toMatchObject({ options: { action: 'format' }, cache: false });
  });
});

describe('createDependencies', () => {
  it('emits unikernel → library (local_libs and dune files), library → library, with source files', async () => {
    ws.write('libs/base/dune', '(library (name base_lib) (public_name acme.base))');
    ws.write('libs/net/dune', '(library (name net) (libraries acme.base lwt))');
    uk('apps/a', 'a', '');
    ws.write('apps/a/config.ml', 'open Mirage\nlet main = main ~local_libs:[ "net" ] "Unikernel" job\nlet () = register "a" [ main ]\n');
    ws.write('apps/a/gen/dune', '(executable (name gen) (libraries base_lib))');
    uk('apps/b', 'b');
    const { dependencies } = await graph();
    // No project edge reaches the dune root project: it owns no file, and Nx cannot hash ^production over it.
    expect(dependencies.filter((d) => d.target === '@nx-mirage')).toEqual([]);
    expect(dependencies).toEqual(
      expect.arrayContaining([
        { source: 'net', target: 'base_lib', sourceFile: 'libs/net/dune', type: 'static' },
        { source: 'a', target: 'net', sourceFile: 'apps/a/config.ml', type: 'static' },
        { source: 'a', target: 'base_lib', sourceFile: 'apps/a/gen/dune', type: 'static' },
      ]),
    );
    expect(dependencies.filter((d) => d.source === 'b')).toEqual([]);
    expect(dependencies).toHaveLength(3);
  });

  it('emits unikernel → the project that owns a directory a data device embeds', async () => {
    uk('apps/site', 'site', 'let data = generic_kv_ro "../web/dist"\nlet more = crunch "htdocs"\n');
    const web = { name: 'web', root: 'apps/web', targets: {} };
    ws.write('apps/web/package.json', '{"name":"web"}');
    const { dependencies } = await graph({ web });
    expect(dependencies).toEqual([{ source: 'site', target: 'web', sourceFile: 'apps/site/config.ml', type: 'static' }]);
  });

  it('keeps every edge when only one side changed (it reads the whole analysis, not the changed files)', async () => {
    ws.write('libs/base/dune', '(library (name base_lib))');
    ws.write('apps/a/config.ml', 'open Mirage\nlet main = main ~local_libs:[ "base_lib" ] "U" job\nlet () = register "a" [ main ]\n');
    const first = await graph();
    ws.write('libs/base/base_lib.ml', 'let x = 1\n');
    // Nx hands over only what changed since the last graph: the library's new module.
    const second = await graph({}, ['libs/base/base_lib.ml']);
    expect(second.dependencies).toEqual(first.dependencies);
    expect(second.dependencies).toEqual([{ source: 'a', target: 'base_lib', sourceFile: 'apps/a/config.ml', type: 'static' }]);
  });
});
