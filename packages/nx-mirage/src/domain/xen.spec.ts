import { describe, expect, it } from 'vitest';
import { renderXenConfig, xenDefaults, xenPlaceholders } from './xen';
import { planRun } from './runner';
import type { ArtifactManifest } from './manifest';

// What mirage 4.11.1 `configure -t xen` writes for a unikernel with a network stack and block_of_file "disk.img"
// (mirage/netx.xl.in and mirage/netx.xl, copied to dist/ by the build).
const TEMPLATE = `name = '@NAME@'
kernel = '@KERNEL@'
type = 'pvh'
memory = @MEMORY@
on_crash = 'preserve'

disk = [ 'format=raw, vdev=xvdb, access=rw, target=@BLOCK:disk.img@' ]

# if your system uses openvswitch then either edit /etc/xen/xl.conf and set
#     vif.default.script="vif-openvswitch"
# or add "script=vif-openvswitch," before the "bridge=" below:
vif = [ 'bridge=@NETWORK:0@' ]
`;
const EXAMPLE = TEMPLATE.replace('@NAME@', 'netx').replace('@KERNEL@', 'netx.xen').replace('@MEMORY@', '256').replace('@BLOCK:disk.img@', 'disk.img').replace('@NETWORK:0@', 'br0');

const render = (over: Partial<Parameters<typeof renderXenConfig>[0]> = {}) =>
  renderXenConfig({ template: TEMPLATE, example: EXAMPLE, kernel: 'netx.xen', net: {}, block: {}, args: [], ...over });

describe('Xen configuration', () => {
  it('reads the placeholders of the template and their defaults from the example', () => {
    expect(xenPlaceholders(TEMPLATE)).toEqual(['NAME', 'KERNEL', 'MEMORY', 'BLOCK:disk.img', 'NETWORK:0']);
    expect(xenDefaults(TEMPLATE, EXAMPLE)).toEqual({ NAME: 'netx', KERNEL: 'netx.xen', MEMORY: '256', 'BLOCK:disk.img': 'disk.img', 'NETWORK:0': 'br0' });
  });

  it('without options, renders what mirage wrote as the example', () => {
    expect(render()).toEqual({ ok: true, config: EXAMPLE });
  });

  it('attaches --net.NAME to its bridge and --block.FILE to its file, sets memory, and passes the arguments as extra', () => {
    const r = render({ net: { '0': 'xenbr1' }, block: { 'disk.img': '/var/lib/xen/data.img' }, memory: 64, args: ['--ipv4=10.0.0.2/24', '-l', '*:debug'] });
    expect(r.ok).toBe(true);
    const config = r.ok ? r.config : '';
    expect(config).toContain("vif = [ 'bridge=xenbr1' ]");
    expect(config).toContain("target=/var/lib/xen/data.img' ]");
    expect(config).toContain('memory = 64\n');
    expect(config.endsWith("extra = '--ipv4=10.0.0.2/24 -l *:debug'\n")).toBe(true);
    expect(config).not.toContain('@');
  });

  it('refuses devices the configuration lacks, values that would break the xl syntax, and arguments that cannot survive the command line', () => {
    const r = render({ net: { service: 'br0', '0': "br0' ]\nmemory = 99999 #" }, block: { 'disk.img': 'a,b' }, args: ['two words', "it's", 'ok'] });
    expect(r).toEqual({
      ok: false,
      problems: [
        `--net.0="br0' ]\\nmemory = 99999 #": a Xen bridge cannot be empty or hold quotes, commas, backslashes or line breaks`,
        '--net.service: the Xen configuration has no network device "service" (its networks: "0")',
        '--block.disk.img="a,b": a Xen file cannot be empty or hold quotes, commas, backslashes or line breaks',
        'runtime arguments "two words", "it\'s" cannot reach a Xen unikernel intact: xl hands the kernel one command line, split at white space, so an argument cannot be empty or hold white space, quotes or backslashes',
      ],
    });
  });

  it('asks for a bridge when the example is gone', () => {
    const r = render({ example: undefined });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toContain('the Xen network "0" has no bridge: give one with --net.0=br0');
  });
});

describe('planRun for Xen and Qubes', () => {
  const manifest = (target: 'xen' | 'qubes'): ArtifactManifest => ({
    manifestVersion: 1,
    unikernel: 'netx',
    target,
    artifact: 'netx.xen',
    abi: { kind: 'solo5', target: 'xen', version: 1 },
    devices: [],
    size: 1,
    sha256: 'x',
    toolchain: {},
  });
  const base = { kernel: '/ws/netx/dist/netx.xen', net: { '0': 'br1' }, block: {}, args: [], tenderArgs: ['-q'], vmConfigPath: '/ws/netx/dist/netx.xen.run.xl' };

  it('checks devices against the xl template (the manifest lists none) and runs xl create on the rendered configuration', () => {
    const plan = planRun({ ...base, manifest: manifest('xen'), xen: { template: TEMPLATE, example: EXAMPLE } });
    expect(plan.ok && plan.command).toEqual({ file: 'xl', args: ['create', '-c', '-q', '/ws/netx/dist/netx.xen.run.xl'] });
    expect(plan.ok && plan.vmConfig).toContain("bridge=br1");
  });

  it('refuses a qubes unikernel with what to do instead, and a xen one whose template is missing', () => {
    const qubes = planRun({ ...base, manifest: manifest('qubes') });
    expect(qubes.ok).toBe(false);
    expect(!qubes.ok && qubes.problems[0]).toMatch(/netx\.xen is a Qubes unikernel: it boots as the kernel of a Qubes VM, which nx run cannot start.*test-unikernel netx\.xen VM/);
    const missing = planRun({ ...base, manifest: manifest('xen') });
    expect(!missing.ok && missing.problems).toEqual(['netx.xl.in is missing beside netx.xen: rebuild the unikernel (mirage writes it with the xen target)']);
  });
});
