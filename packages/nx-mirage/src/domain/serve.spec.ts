import { describe, expect, it } from 'vitest';
import { isSourceChange, needsConfigure, serveTarget, watchedDirectories } from './serve';

describe('serveTarget', () => {
  const host = (programs: string[], kvm: boolean) => ({ onPath: (p: string) => programs.includes(p), kvm });

  it("runs the unikernel's own target where this machine can, else unix, and says why", () => {
    expect(serveTarget('unix', host([], false))).toEqual({ target: 'unix', reason: 'its own target' });
    expect(serveTarget('hvt', host(['solo5-hvt'], true))).toEqual({ target: 'hvt', reason: 'its own target (solo5-hvt is here)' });
    expect(serveTarget('hvt', host(['solo5-hvt'], false))).toEqual({ target: 'unix', reason: 'unix, since /dev/kvm cannot be opened' });
    expect(serveTarget('hvt', host([], true))).toEqual({ target: 'unix', reason: 'unix, since solo5-hvt is not on PATH' });
    expect(serveTarget('spt', host(['solo5-spt'], false))).toMatchObject({ target: 'spt' });
    expect(serveTarget('xen', host(['xl'], true))).toEqual({ target: 'unix', reason: 'unix, since this machine has no program that runs xen' });
    expect(serveTarget('hvt', host([], false), 'spt')).toEqual({ target: 'spt', reason: 'the target asked for' });
  });
});

describe('watchedDirectories', () => {
  it('holds the unikernel, the libraries it reaches through others, and what it embeds, and nothing twice', () => {
    const model = {
      libraries: [
        { project: 'net', root: 'libs/net' },
        { project: 'base', root: 'libs/base' },
        { project: 'unused', root: 'libs/unused' },
        { project: 'inner', root: 'apps/site/vendor' },
      ] as never,
      edges: [
        { source: 'site', target: 'net', sourceFile: '' },
        { source: 'net', target: 'base', sourceFile: '' },
        { source: 'site', target: 'inner', sourceFile: '' },
        { source: 'site', target: 'web', sourceFile: '' },
        { source: 'other', target: 'unused', sourceFile: '' },
      ],
      dataDirs: [{ unikernel: 'site', dir: 'apps/web/dist', sourceFile: '' }],
    };
    expect(watchedDirectories(model, { project: 'site', name: 'site', root: 'apps/site' })).toEqual(['apps/site', 'apps/web/dist', 'libs/base', 'libs/net']);
  });
});

describe('what serve reacts to', () => {
  it('sources, not what configure and the build write', () => {
    expect(isSourceChange('apps/site/unikernel.ml', 'apps/site')).toBe(true);
    expect(isSourceChange('apps/site/config.ml', 'apps/site')).toBe(true);
    expect(isSourceChange('libs/net/net.ml', 'apps/site')).toBe(true);
    for (const generated of ['apps/site/dune', 'apps/site/dune.build', 'apps/site/mirage/main.ml', 'apps/site/dist/site.hvt', 'apps/site/.#unikernel.ml', '_build/default/x.ml', 'libs/net/x.ml~', 'apps/site/.dune.nx-mirage-8a2414853565', 'libs/net/.net.ml.nx-mirage-0a1b2c3d4e5f']) {
      expect(isSourceChange(generated, 'apps/site'), generated).toBe(false);
    }
    expect(isSourceChange('dune', '.')).toBe(false);
    expect(isSourceChange('unikernel.ml', '.')).toBe(true);
    expect(needsConfigure('apps/site/config.ml', 'apps/site')).toBe(true);
    expect(needsConfigure('config.ml', '.')).toBe(true);
    expect(needsConfigure('libs/net/config.ml', 'apps/site')).toBe(false);
  });
});
