import { describe, expect, it } from 'vitest';
import { buildCommand, configureStampHolds, renderConfigureStamp, duneTarget, unbuildableDirectory, xlFiles, configureCommand, installSwitchCommand, lockCommand, lockFile, pullCommand } from './unikernel';
import { duneCacheFailsWithoutCommit } from './tools';

const hello = { name: 'hello', dir: 'apps/hello', target: 'hvt' as const };

describe('mirage commands as argument vectors', () => {
  it('configures with -f and -t from the dune root, flags last', () => {
    expect(configureCommand(hello, ['--no-dhcp'])).toEqual({
      file: 'mirage',
      args: ['configure', '-f', 'apps/hello/config.ml', '-t', 'hvt', '--no-dhcp'],
    });
    expect(configureCommand({ ...hello, dir: '.' }).args).toEqual(['configure', '-f', 'config.ml', '-t', 'hvt']);
  });

  it('keeps hostile directory names as single arguments', () => {
    const u = { name: 'x', dir: 'apps/$(rm -rf ~); `x` "q"', target: 'unix' as const };
    expect(configureCommand(u).args[2]).toBe('apps/$(rm -rf ~); `x` "q"/config.ml');
  });

  it('builds many unikernels in one dune call with --profile release, each in its context', () => {
    expect(buildCommand({ unikernels: [hello, { name: 'b', dir: 'b', target: 'unix' }, hello] })).toEqual({
      file: 'dune',
      args: ['build', '--profile', 'release', '--root', '.', '_build/solo5/apps/hello/hello.hvt', '_build/default/b/b'],
    });
  });

  it('builds the libraries of a batch in one dune call, each directory\'s default alias in each of its contexts', () => {
    expect(buildCommand({ libraries: [{ dir: 'libs/a', contexts: ['default', 'solo5'] }, { dir: 'libs/b c', contexts: ['default'] }], workspaceFile: '/tmp/ws' })).toEqual({
      file: 'dune',
      args: ['build', '--profile', 'release', '--root', '.', '--workspace', '/tmp/ws', '@@_build/default/libs/a/default', '@@_build/solo5/libs/a/default', '"@@_build/default/libs/b c/default"'],
    });
  });

  it('builds libraries and unikernels in one dune call, the libraries only in _build', () => {
    expect(buildCommand({ libraries: [{ dir: 'libs/a', contexts: ['solo5'] }], unikernels: [hello, hello], workspaceFile: '/tmp/ws' })).toEqual({
      file: 'dune',
      args: ['build', '--profile', 'release', '--root', '.', '--workspace', '/tmp/ws', '@@_build/solo5/libs/a/default', '_build/solo5/apps/hello/hello.hvt'],
    });
    expect(() => buildCommand({ libraries: [{ dir: 'libs/a', contexts: ['default'] }], unikernels: [hello], buildDir: '_build.unikraft-qemu' })).toThrow(/libraries are built in _build/);
  });

  it('locks, installs and pulls as mirage\'s Makefile does', () => {
    expect(lockFile(hello)).toBe('apps/hello/mirage/hello-hvt.opam.locked');
    expect(lockCommand(hello, '4.14.2')).toEqual({
      file: 'opam',
      args: ['monorepo', 'lock', '--require-cross-compile', '--build-only', 'hello-hvt', '-l', 'apps/hello/mirage/hello-hvt.opam.locked', '--ocaml-version', '4.14.2'],
      env: { OPAMVAR_monorepo: 'opam-monorepo' },
    });
    expect(installSwitchCommand([hello, { name: 'root', dir: '.', target: 'unix' }]).args).toEqual([
      'install',
      './apps/hello/mirage/hello-hvt.opam',
      './mirage/root-unix.opam',
      '--deps-only',
      '--yes',
    ]);
    expect(pullCommand(hello, '/ws').args).toEqual(['monorepo', 'pull', '-l', 'apps/hello/mirage/hello-hvt.opam.locked', '-r', '/ws/apps/hello']);
  });

  it('quotes dune targets that dune would not read as one atom, and refuses dash-leading directories', () => {
    expect(duneTarget('_build/solo5/uk/uk.hvt')).toBe('_build/solo5/uk/uk.hvt');
    expect(duneTarget('@@_build/default/libs/a b/default')).toBe('"@@_build/default/libs/a b/default"');
    expect(duneTarget('x/q\'uo"te\\s;$(y)')).toBe('"x/q\'uo\\"te\\\\s;$(y)"');
    expect(unbuildableDirectory('apps/-rf')).toMatch(/"-rf" starts with "-"/);
    expect(unbuildableDirectory('apps/a-b')).toBeUndefined();
    expect(configureCommand({ name: 'x', dir: 'a b/$(c)', target: 'unix' }).args.slice(1, 3)).toEqual(['-f', 'a b/$(c)/config.ml']);
  });

  it('copies Xen\'s xl files beside the artifact', () => {
    expect(xlFiles({ ...hello, target: 'xen' })).toEqual([
      { from: 'mirage/hello.xl', to: 'dist/hello.xl' },
      { from: 'mirage/hello.xl.in', to: 'dist/hello.xl.in' },
    ]);
    expect(xlFiles(hello)).toEqual([]);
  });

  it('turns dune\'s cache off in a repository without commits for dune 2.x only', () => {
    expect(duneCacheFailsWithoutCommit('2.9.3')).toBe(true);
    expect(duneCacheFailsWithoutCommit(undefined)).toBe(true);
    expect(duneCacheFailsWithoutCommit('3.20.2')).toBe(false);
    expect(duneCacheFailsWithoutCommit('3.22.0~alpha1')).toBe(false);
  });
});

describe('the configure stamp', () => {
  const inputs = { config: 'c0ffee', target: 'hvt' as const, flags: ['--no-dhcp'], mirage: '4.11.1' };
  const outputs = { 'dune.build': 'a1', 'mirage/context': 'b2', 'dist/dune': 'c3' };
  const stamp = renderConfigureStamp(inputs, outputs);

  it('holds for the same inputs and generated files, and breaks on either', () => {
    expect(configureStampHolds(stamp, inputs, outputs)).toBe(true);
    expect(configureStampHolds(stamp, { ...inputs, flags: [] }, outputs)).toBe(false);
    expect(configureStampHolds(stamp, inputs, { ...outputs, 'dune.build': 'edited' })).toBe(false);
    expect(configureStampHolds(undefined, inputs, outputs)).toBe(false);
  });

  it("for a build, ignores what configure wrote into dist/ (the build replaces dist/ entries itself), nothing else", () => {
    const { ['dist/dune']: _gone, ...withoutDist } = outputs;
    expect(configureStampHolds(stamp, inputs, withoutDist)).toBe(false);
    expect(configureStampHolds(stamp, inputs, withoutDist, true)).toBe(true);
    expect(configureStampHolds(stamp, inputs, { ...outputs, 'dist/dune': 'other' }, true)).toBe(true);
    expect(configureStampHolds(stamp, inputs, { ...withoutDist, 'dune.build': 'edited' }, true)).toBe(false);
    expect(configureStampHolds(stamp, { ...inputs, mirage: '4.12.0' }, outputs, true)).toBe(false);
    expect(configureStampHolds('not json', inputs, outputs, true)).toBe(false);
  });
});
