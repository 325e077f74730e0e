import { beforeEach, describe, expect, it } from 'vitest';
import { readJson, readNxJson, updateNxJson, writeJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { MANAGED_MARKER, declaredContexts, readConfigMl } from '../domain';
import { initGenerator } from './init/generator';
import { unikernelGenerator } from './unikernel/generator';
import { libraryGenerator } from './library/generator';

let tree: Tree;

/** Trees start with the plugin registered: registering it (addPlugin) needs a workspace on disk, which the e2e suite covers. */
beforeEach(() => {
  tree = createTreeWithEmptyWorkspace();
  const nxJson = readNxJson(tree)!;
  nxJson.plugins = [{ plugin: 'nx-mirage', options: { buildTargetName: 'build' } }];
  updateNxJson(tree, nxJson);
});

function snapshot(t: Tree): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const child of t.children(dir)) {
      const path = dir ? `${dir}/${child}` : child;
      if (t.isFile(path)) out[path] = t.read(path, 'utf-8') ?? '';
      else walk(path);
    }
  };
  walk('');
  return out;
}

describe('init', () => {
  it('writes the root dune files, .gitignore entries, named inputs and sync, once', async () => {
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('dune-project', 'utf-8')).toContain(MANAGED_MARKER);
    expect(declaredContexts(tree.read('dune-workspace', 'utf-8')!)).toEqual(['default']);
    expect(tree.read('.gitignore', 'utf-8')).toMatch(/_build\/\n_build\.unikraft-\*\/\nduniverse\/\n/);
    const nxJson = readNxJson(tree)!;
    expect(nxJson.namedInputs?.['production']).toBeDefined();
    expect(nxJson.sync?.applyChanges).toBe(true);
    expect(readJson(tree, 'package.json').devDependencies['nx-mirage']).toMatch(/^\^\d/);
    const after = snapshot(tree);
    await initGenerator(tree, { skipFormat: true });
    expect(snapshot(tree)).toEqual(after);
  });

  it('leaves a dune-workspace the user wrote', async () => {
    tree.write('dune-workspace', '(lang dune 3.0)\n(context default)\n');
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('dune-workspace', 'utf-8')).toBe('(lang dune 3.0)\n(context default)\n');
  });
});

describe('unikernel', () => {
  it('generates the hello template in the mirage 4.11 API', async () => {
    await unikernelGenerator(tree, { name: 'hello', skipFormat: true });
    const config = tree.read('apps/hello/config.ml', 'utf-8')!;
    const info = readConfigMl(config);
    expect(info).toMatchObject({ isMirage: true, name: 'hello', problems: [] });
    expect(info.versionGuard?.constraints).toEqual([
      { op: '>=', version: '4.11.0' },
      { op: '<', version: '4.12.0' },
    ]);
    expect(info.packages.map((p) => p.name)).toEqual(['duration']);
    expect(tree.read('apps/hello/unikernel.ml', 'utf-8')).toContain('Mirage_sleep.ns (Duration.of_sec 1)');
    expect(tree.read('apps/hello/.gitignore', 'utf-8')).toContain('!/mirage/*.opam.locked');
    expect(declaredContexts(tree.read('dune-workspace', 'utf-8')!)).toEqual(['default', 'solo5']);
  });

  it('declares runtime arguments in the unikernel, not as configure keys', async () => {
    await unikernelGenerator(tree, { name: 'echo', template: 'network', port: 7, skipFormat: true });
    expect(tree.read('apps/echo/unikernel.ml', 'utf-8')).toContain('Mirage_runtime.register_arg Arg.(value & opt int 7 doc)');
    expect(tree.read('apps/echo/config.ml', 'utf-8')).not.toContain('Key.');
    expect(readConfigMl(tree.read('apps/echo/config.ml', 'utf-8')!).name).toBe('echo');
  });

  it('serves a directory through a key-value device with the website template', async () => {
    await unikernelGenerator(tree, { name: 'site', template: 'website', dataDir: 'dist/apps/web', directory: 'unikernels/site', skipFormat: true });
    const info = readConfigMl(tree.read('unikernels/site/config.ml', 'utf-8')!);
    expect(info.dataDirs).toEqual([{ device: 'generic_kv_ro', path: '../../dist/apps/web', line: 5 }]);
    expect(tree.read('unikernels/site/unikernel.ml', 'utf-8')).toContain('module Main (Data : Mirage_kv.RO) (S : Tcpip.Stack.V4V6)');
  });

  it('renders generator values as OCaml string literals, not HTML-escaped text', async () => {
    await unikernelGenerator(tree, { name: 'site', template: 'website', dataDir: 'apps/R&D/dist', skipFormat: true });
    const source = tree.read('apps/site/config.ml', 'utf-8')!;
    expect(source).toContain('generic_kv_ro "../R&D/dist"');
    expect(source).not.toContain('&amp;');
    expect(readConfigMl(source).dataDirs.map((d) => d.path)).toEqual(['../R&D/dist']);
  });

  it('keeps a crafted value inside its string and comment', async () => {
    const crafted = 'x" *) let () = exit 1 (*';
    await unikernelGenerator(tree, { name: 'site', template: 'website', dataDir: crafted, skipFormat: true });
    const source = tree.read('apps/site/config.ml', 'utf-8')!;
    const info = readConfigMl(source);
    expect(info.problems).toEqual([]);
    expect(info.dataDirs.map((d) => d.path)).toEqual([`../../${crafted}`]);
    // The only top-level definitions are the template's own.
    expect(source.match(/^let /gm)).toHaveLength(4);
    expect(source).not.toMatch(/^let \(\) = exit/m);
  });

  it('records a non-default target in nx.json and adds its dune context', async () => {
    await unikernelGenerator(tree, { name: 'u', target: 'unix', skipFormat: true });
    expect(declaredContexts(tree.read('dune-workspace', 'utf-8')!)).toEqual(['default']);
    await unikernelGenerator(tree, { name: 'q', target: 'unikraft-qemu', skipFormat: true });
    const plugin = readNxJson(tree)!.plugins![0] as { options: { unikernels: Record<string, unknown> } };
    expect(plugin.options.unikernels).toEqual({ u: { target: 'unix' }, q: { target: 'unikraft-qemu' } });
    expect(declaredContexts(tree.read('dune-workspace', 'utf-8')!)).toEqual(['default', 'unikraft']);
  });

  it('rejects unsafe names and directories, and does not overwrite unless asked', async () => {
    await expect(unikernelGenerator(tree, { name: 'Bad Name', skipFormat: true })).rejects.toThrow(
      /"name": "Bad Name" is not an opam-safe name: use lowercase letters, digits, "-" and "_", starting with a letter/,
    );
    await expect(unikernelGenerator(tree, { name: 'x', directory: '../outside', skipFormat: true })).rejects.toThrow(/--directory "..\/outside" is outside the workspace/);
    await expect(unikernelGenerator(tree, { name: 'x', directory: '/abs', skipFormat: true })).rejects.toThrow(/outside the workspace/);
    await expect(unikernelGenerator(tree, { name: 'x', directory: 'apps/-rf', skipFormat: true })).rejects.toThrow(
      '--directory "apps/-rf": its directory name "-rf" starts with "-", which the OCaml compilers that dune runs read as an option; rename the directory',
    );
    await unikernelGenerator(tree, { name: 'hello', skipFormat: true });
    await expect(unikernelGenerator(tree, { name: 'other', directory: 'apps/hello', skipFormat: true })).rejects.toThrow(
      'apps/hello/config.ml already exists; choose another --directory, or pass --overwrite to replace it',
    );
    await expect(unikernelGenerator(tree, { name: 'hello', directory: 'apps/hello2', skipFormat: true })).rejects.toThrow(/a unikernel named "hello" already exists in apps\/hello/);
    await unikernelGenerator(tree, { name: 'hello', template: 'network', overwrite: true, skipFormat: true });
    expect(tree.read('apps/hello/config.ml', 'utf-8')).toContain('generic_stackv4v6');
    writeJson(tree, 'apps/web/project.json', { name: 'web' });
    await expect(unikernelGenerator(tree, { name: 'web', skipFormat: true })).rejects.toThrow(/a project named "web" already exists/);
  });

  it('needs a project or a directory to serve', async () => {
    await expect(unikernelGenerator(tree, { name: 'site', template: 'website', skipFormat: true })).rejects.toThrow(/needs --serve PROJECT/);
  });
});

describe('library', () => {
  it('creates a dune library and adds it to a unikernel\'s local_libs', async () => {
    await unikernelGenerator(tree, { name: 'hello', skipFormat: true });
    await libraryGenerator(tree, { name: 'shared', unikernel: 'hello', skipFormat: true });
    expect(tree.read('libs/shared/dune', 'utf-8')).toContain('(name shared)');
    expect(tree.read('libs/shared/shared.ml', 'utf-8')).toContain('let greeting');
    expect(readConfigMl(tree.read('apps/hello/config.ml', 'utf-8')!).localLibs).toEqual(['shared']);
    await libraryGenerator(tree, { name: 'extra', unikernel: 'hello', skipFormat: true });
    expect(readConfigMl(tree.read('apps/hello/config.ml', 'utf-8')!).localLibs).toEqual(['shared', 'extra']);
  });

  it('rejects a duplicate library or an unknown unikernel', async () => {
    await libraryGenerator(tree, { name: 'shared', skipFormat: true });
    await expect(libraryGenerator(tree, { name: 'shared', directory: 'libs/other', skipFormat: true })).rejects.toThrow(/a dune library named "shared" already exists in libs\/shared\/dune/);
    await expect(libraryGenerator(tree, { name: 'x', unikernel: 'nope', skipFormat: true })).rejects.toThrow(/--unikernel nope: no unikernel has that name \(known: none\)/);
    await expect(libraryGenerator(tree, { name: 'Bad', skipFormat: true })).rejects.toThrow(/is not an OCaml library name/);
  });
});
