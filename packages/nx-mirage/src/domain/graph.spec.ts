import { describe, expect, it } from 'vitest';
import { analyzeWorkspace, owningProject } from './graph';
import { readConfigMl } from './config-ml/reader';
import { readDuneFile } from './dune-file';

const uk = (root: string, name: string, extra = '') => ({
  root,
  name,
  info: readConfigMl(`open Mirage\nlet main = main "U" job${extra}\nlet () = register "${name}" [ main ]\n`),
});
const dune = (file: string, text: string) => ({ file, info: readDuneFile(text) });

describe('analyzeWorkspace', () => {
  const files = [
    dune('libs/base/dune', '(library (name base_lib) (public_name acme.base))'),
    dune('libs/net/dune', '(library (name net) (libraries acme.base.sub lwt))'),
    dune('libs/net/test/dune', '(test (name t) (libraries net alcotest))'),
    dune('apps/a/dune', '(include dune.build)'),
    dune('apps/a/helpers/dune', '(executable (name gen) (libraries base_lib))'),
    dune('apps/a/_build/default/libs/base/dune', '(library (name base_lib))'),
    dune('apps/a/duniverse/lwt/dune', '(library (name lwt))'),
  ];

  it('makes library projects of directories with library stanzas, outside build and vendor directories', () => {
    const a = analyzeWorkspace([uk('apps/a', 'a')], files);
    expect(a.libraries.map((l) => [l.name, l.root])).toEqual([
      ['base_lib', 'libs/base'],
      ['net', 'libs/net'],
    ]);
    expect(a.libraryOwners).toEqual({ base_lib: 'base_lib', 'acme.base': 'base_lib', net: 'net' });
  });

  it('connects unikernels and libraries, each edge with the file that creates it', () => {
    const a = analyzeWorkspace([uk('apps/a', 'a', ' ~local_libs:[ "net" ]'), uk('apps/b', 'b', ' ~packages:[ package "duration" ]')], files);
    expect(a.edges).toEqual([
      { source: 'net', target: 'base_lib', sourceFile: 'libs/net/dune' },
      { source: 'a', target: 'net', sourceFile: 'apps/a/config.ml' },
      { source: 'a', target: 'base_lib', sourceFile: 'apps/a/helpers/dune' },
    ]);
    expect(a.externalLibraries).toEqual({ net: ['lwt'], b: ['duration'] });
  });

  it('resolves the directories data devices embed, and the project owning them', () => {
    const site = { root: 'apps/site', name: 'site', info: readConfigMl('open Mirage\nlet data = crunch "../web/dist"\nlet () = register "site" [ main $ data ]\n') };
    const a = analyzeWorkspace([site], []);
    expect(a.dataDirs).toEqual([{ unikernel: 'site', dir: 'apps/web/dist', sourceFile: 'apps/site/config.ml' }]);
    const projects = [
      { name: 'root', root: '.' },
      { name: 'web', root: 'apps/web' },
      { name: 'site', root: 'apps/site' },
    ];
    expect(owningProject('apps/web/dist', projects, 'site')).toBe('web');
    expect(owningProject('docs/x', projects, 'site')).toBe('root');
  });

  it('reports two libraries with one name', () => {
    const a = analyzeWorkspace([], [dune('x/dune', '(library (name dup))'), dune('y/dune', '(library (name dup))')]);
    expect(a.problems).toEqual([{ file: 'y/dune', message: 'library "dup" is also defined in x/dune; dune rejects two libraries with one name' }]);
    expect(a.libraries.map((l) => l.root)).toEqual(['x']);
  });
});
