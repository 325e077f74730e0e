import { describe, expect, it } from 'vitest';
import { planRun, type RunRequest } from './runner';
import type { ArtifactManifest } from './manifest';

const manifest = (over: Partial<ArtifactManifest>): ArtifactManifest => ({
  manifestVersion: 1,
  unikernel: 'u',
  target: 'hvt',
  artifact: 'u.hvt',
  abi: { kind: 'solo5', target: 'hvt', version: 2 },
  devices: [
    { name: 'service', type: 'NET_BASIC' },
    { name: 'storage', type: 'BLOCK_BASIC' },
  ],
  size: 1,
  sha256: 'x',
  toolchain: {},
  ...over,
});
const request = (over: Partial<RunRequest>): RunRequest => ({
  kernel: '/ws/u/dist/u.hvt',
  manifest: manifest({}),
  net: { service: 'tap0' },
  block: { storage: 'disk.img' },
  args: [],
  tenderArgs: [],
  vmConfigPath: '/ws/u/dist/u.vm.json',
  ...over,
});

describe('planRun', () => {
  it('runs hvt and spt with their tender, devices by manifest name, memory, then the kernel and its arguments', () => {
    expect(planRun(request({ memory: 64, args: ['--hello=world'] }))).toEqual({
      ok: true,
      command: { file: 'solo5-hvt', args: ['--mem=64', '--net:service=tap0', '--block:storage=disk.img', '--', '/ws/u/dist/u.hvt', '--hello=world'] },
    });
    const spt = planRun(request({ manifest: manifest({ abi: { kind: 'solo5', target: 'spt', version: 2 } }) }));
    expect(spt.ok && spt.command.file).toBe('solo5-spt');
  });

  it('chooses the program from the ABI, not from the file name', () => {
    const plan = planRun(request({ kernel: '/ws/u/dist/u.hvt', manifest: manifest({ abi: { kind: 'solo5', target: 'spt', version: 2 } }) }));
    expect(plan.ok && plan.command.file).toBe('solo5-spt');
    const host = planRun(request({ kernel: '/ws/u/dist/u', manifest: manifest({ abi: { kind: 'host' }, devices: [] }), net: {}, block: {}, args: ['-l', 'debug'] }));
    expect(host).toEqual({ ok: true, command: { file: '/ws/u/dist/u', args: ['-l', 'debug'] } });
  });

  it('lists every missing device and the option that gives it, before anything runs', () => {
    expect(planRun(request({ net: {}, block: {} }))).toEqual({
      ok: false,
      problems: ['u.hvt needs devices "service" (NET_BASIC), "storage" (BLOCK_BASIC); give them with --net.service=tap0 --block.storage=disk.img'],
    });
  });

  it('rejects unknown devices and devices of the wrong kind', () => {
    const plan = planRun(request({ net: { service: 'tap0', storage: 'tap1', extra: 'tap2' } }));
    expect(plan).toEqual({
      ok: false,
      problems: [
        '--net.storage: "storage" is a block device of u.hvt; give it with --block.storage',
        '--net.extra: u.hvt has no device "extra" (its devices: service (NET_BASIC), storage (BLOCK_BASIC))',
      ],
    });
  });

  it('passes hostile arguments verbatim, one argument each', () => {
    const hostile = ['--name=$(rm -rf ~)', 'a b', '`id`;ls', "it's \"quoted\"", 'line\nbreak', '-rf'];
    const plan = planRun(request({ args: hostile }));
    expect(plan.ok && plan.command.args.slice(-hostile.length)).toEqual(hostile);
  });

  it('runs virtio, xen and the unikraft backends with their programs', () => {
    const virtio = planRun(request({ manifest: manifest({ abi: { kind: 'solo5', target: 'virtio', version: 1 } }), memory: 128, args: ['-v'] }));
    expect(virtio.ok && virtio.command).toEqual({ file: 'solo5-virtio-run', args: ['-n', 'tap0', '-d', 'disk.img', '-m', '128', '/ws/u/dist/u.hvt', '--', '-v'] });
    const xen = planRun(
      request({
        kernel: '/ws/u/dist/u.xen',
        manifest: manifest({ target: 'xen', abi: { kind: 'solo5', target: 'xen', version: 1 }, devices: [] }),
        net: {},
        block: {},
        memory: 64,
        vmConfigPath: '/ws/u/dist/u.xen.run.xl',
        xen: { template: "name = '@NAME@'\nkernel = '@KERNEL@'\nmemory = @MEMORY@\n", example: "name = 'u'\nkernel = 'u.xen'\nmemory = 256\n" },
      }),
    );
    expect(xen.ok && xen.command).toEqual({ file: 'xl', args: ['create', '-c', '/ws/u/dist/u.xen.run.xl'] });
    expect(xen.ok && xen.vmConfig).toBe("name = 'u'\nkernel = 'u.xen'\nmemory = 64\n");
    const qemu = planRun(request({ kernel: '/k.qemu', manifest: manifest({ abi: { kind: 'unikraft', backend: 'qemu' }, devices: [] }), net: {}, block: {}, args: ['a', 'b'] }));
    expect(qemu.ok && qemu.command.args).toEqual(['-nographic', '-nodefaults', '-serial', 'stdio', '-kernel', '/k.qemu', '-append', 'a b']);
    const fc = planRun(request({ kernel: '/k.fc', manifest: manifest({ abi: { kind: 'unikraft', backend: 'firecracker' }, devices: [] }), net: {}, block: {}, memory: 256 }));
    expect(fc.ok && fc.command).toEqual({ file: 'firecracker', args: ['--no-api', '--config-file', '/ws/u/dist/u.vm.json'] });
    expect(fc.ok && JSON.parse(fc.vmConfig!)).toEqual({ 'boot-source': { kernel_image_path: '/k.fc', boot_args: '' }, 'machine-config': { vcpu_count: 1, mem_size_mib: 256 } });
  });

  it('has nothing to run muen or genode with', () => {
    const muen = planRun(request({ manifest: manifest({ abi: { kind: 'solo5', target: 'muen', version: 4 }, devices: [] }), net: {}, block: {} }));
    expect(muen).toMatchObject({ ok: false });
  });
});
