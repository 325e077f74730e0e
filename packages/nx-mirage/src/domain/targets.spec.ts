import { describe, expect, it } from 'vitest';
import { MIRAGE_TARGETS, allTargets, artifactFileName, contextsFor, distFiles, findlibToolchainsFor, isMirageTarget, opamName, targetInfo } from './targets';

describe('mirage target table', () => {
  it('lists the eleven mirage 4.11 targets', () => {
    expect([...MIRAGE_TARGETS].sort()).toEqual(
      ['genode', 'hvt', 'macosx', 'muen', 'qubes', 'spt', 'unikraft-firecracker', 'unikraft-qemu', 'unix', 'virtio', 'xen'],
    );
    expect(allTargets()).toHaveLength(11);
  });

  it.each([
    ['unix', 'default', 'hello', undefined],
    ['macosx', 'default', 'hello', undefined],
    ['hvt', 'solo5', 'hello.hvt', 'solo5-hvt'],
    ['spt', 'solo5', 'hello.spt', 'solo5-spt'],
    ['virtio', 'solo5', 'hello.virtio', 'solo5-virtio-run'],
    ['muen', 'solo5', 'hello.muen', undefined],
    ['genode', 'solo5', 'hello.genode', undefined],
    ['xen', 'solo5', 'hello.xen', 'xl'],
    ['qubes', 'solo5', 'hello.xen', undefined],
    ['unikraft-qemu', 'unikraft', 'hello.qemu', 'qemu-system-x86_64'],
    ['unikraft-firecracker', 'unikraft', 'hello.fc', 'firecracker'],
  ] as const)('%s builds in the %s context into dist/%s', (target, context, artifact, program) => {
    const info = targetInfo(target);
    expect(info.context).toBe(context);
    expect(artifactFileName('hello', target)).toBe(artifact);
    if (program) expect(info.runner?.program).toBe(program);
    else if (info.family !== 'unix') expect(info.runner).toBeUndefined();
  });

  it('gives Solo5 ABIs with their versions', () => {
    expect(targetInfo('hvt').abi).toEqual({ kind: 'solo5', target: 'hvt', version: 2 });
    expect(targetInfo('spt').abi).toEqual({ kind: 'solo5', target: 'spt', version: 2 });
    expect(targetInfo('virtio').abi).toEqual({ kind: 'solo5', target: 'virtio', version: 1 });
    expect(targetInfo('muen').abi).toEqual({ kind: 'solo5', target: 'muen', version: 4 });
    expect(targetInfo('xen').abi).toEqual({ kind: 'solo5', target: 'xen', version: 1 });
    expect(targetInfo('qubes').abi).toEqual({ kind: 'solo5', target: 'xen', version: 1 });
    expect(targetInfo('unix').abi).toEqual({ kind: 'host' });
    expect(targetInfo('unikraft-qemu').abi).toEqual({ kind: 'unikraft', backend: 'qemu' });
  });

  it('marks genode unsupported and every other target supported', () => {
    expect(allTargets().filter((t) => !t.supported).map((t) => t.target)).toEqual(['genode']);
    expect(targetInfo('genode').note).toMatch(/Solo5 removed/);
  });

  it('needs the findlib toolchain of the cross context', () => {
    expect(targetInfo('unix').toolchain).toBeUndefined();
    expect(targetInfo('xen').toolchain).toBe('solo5');
    expect(targetInfo('unikraft-firecracker').toolchain).toBe('unikraft');
  });

  it('adds the xl files to xen builds', () => {
    expect(distFiles('web', 'xen')).toEqual(['web.xen', 'web.xl', 'web.xl.in']);
    expect(distFiles('web', 'qubes')).toEqual(['web.xen']);
  });

  it('opamifies names as mirage does', () => {
    expect(opamName('noop-functor.v0', 'unix')).toBe('noop-functor_v0-unix');
    expect(opamName('hello', 'unikraft-qemu')).toBe('hello-unikraft-qemu');
  });

  it('computes the dune contexts a set of targets needs', () => {
    expect(contextsFor([])).toEqual(['default']);
    expect(contextsFor(['unix'])).toEqual(['default']);
    expect(contextsFor(['xen', 'hvt'])).toEqual(['default', 'solo5']);
    expect(contextsFor(['unikraft-qemu', 'spt', 'unix'])).toEqual(['default', 'solo5', 'unikraft']);
  });

  it('lists the findlib toolchains a set of targets needs, each once', () => {
    expect(findlibToolchainsFor(['unix', 'macosx'])).toEqual([]);
    expect(findlibToolchainsFor(['hvt', 'unikraft-qemu', 'xen', 'spt'])).toEqual(['solo5', 'unikraft']);
  });

  it('recognises target names', () => {
    expect(isMirageTarget('hvt')).toBe(true);
    expect(isMirageTarget('HVT')).toBe(false);
    expect(isMirageTarget('solo5')).toBe(false);
  });
});
