/**
 * How a built unikernel runs: the program chosen from the ABI its manifest records (never guessed from the
 * file name), its devices checked against the manifest before anything starts, and the command line.
 */
import type { ArtifactManifest } from './manifest';
import type { Command } from './unikernel';
import type { Solo5DeviceType } from './solo5-elf';
import { renderXenConfig } from './xen';

export interface RunRequest {
  /** Absolute path of the artifact. */
  kernel: string;
  manifest: ArtifactManifest;
  /** Memory in MiB. */
  memory?: number;
  /** Network devices by manifest name: the host interface (tap) to attach. */
  net: Record<string, string>;
  /** Block devices by manifest name: the file or device to attach. */
  block: Record<string, string>;
  /** Runtime arguments of the unikernel, after the kernel path. */
  args: string[];
  /** Extra arguments for the program that runs it, before the kernel path. */
  tenderArgs: string[];
  /** Where to write a generated VM configuration (firecracker; xen: the rendered xl configuration). */
  vmConfigPath: string;
  /** Xen: `NAME.xl.in` and `NAME.xl` from beside the kernel (mirage's template and its defaults). */
  xen?: { template?: string; example?: string };
}

export type RunPlan = { ok: true; command: Command; vmConfig?: string } | { ok: false; problems: string[] };

const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);

const OPTION_OF: Record<Solo5DeviceType, 'net' | 'block'> = { NET_BASIC: 'net', BLOCK_BASIC: 'block' };
const EXAMPLE: Record<'net' | 'block', string> = { net: 'tap0', block: 'disk.img' };

/** Devices: every one in the manifest given, with the right kind, and none that the manifest lacks. */
export function deviceProblems(manifest: ArtifactManifest, net: Record<string, string>, block: Record<string, string>): string[] {
  const problems: string[] = [];
  const declared = new Map(manifest.devices.map((d) => [d.name, OPTION_OF[d.type]]));
  const missing = manifest.devices.filter((d) => (OPTION_OF[d.type] === 'net' ? net[d.name] : block[d.name]) === undefined);
  if (missing.length > 0) {
    problems.push(
      `${manifest.artifact} needs ${missing.length === 1 ? 'device' : 'devices'} ${missing.map((d) => `"${d.name}" (${d.type})`).join(', ')}; ` +
        `give ${missing.length === 1 ? 'it' : 'them'} with ${missing.map((d) => `--${OPTION_OF[d.type]}.${d.name}=${EXAMPLE[OPTION_OF[d.type]]}`).join(' ')}`,
    );
  }
  for (const [kind, given] of [
    ['net', net],
    ['block', block],
  ] as const) {
    for (const name of Object.keys(given)) {
      const want = declared.get(name);
      if (want === undefined) {
        problems.push(
          `--${kind}.${name}: ${manifest.artifact} has no device "${name}" (its devices: ${manifest.devices.map((d) => `${d.name} (${d.type})`).join(', ') || 'none'})`,
        );
      } else if (want !== kind) {
        problems.push(`--${kind}.${name}: "${name}" is a ${want} device of ${manifest.artifact}; give it with --${want}.${name}`);
      }
    }
  }
  return problems;
}

export function planRun(r: RunRequest): RunPlan {
  const abi = r.manifest.abi;
  // Xen devices are in the xl configuration, not in the manifest (mirage writes "devices": [] for xen and qubes).
  if (abi.kind === 'solo5' && abi.target === 'xen') return planXen(r);
  const problems = deviceProblems(r.manifest, r.net, r.block);
  if (problems.length) return { ok: false, problems };
  if (abi.kind === 'host') return { ok: true, command: { file: r.kernel, args: [...r.args] } };
  if (abi.kind === 'solo5') {
    switch (abi.target) {
      case 'hvt':
      case 'spt': {
        const devices = [...Object.entries(r.net).map(([n, v]) => `--net:${n}=${v}`), ...Object.entries(r.block).map(([n, v]) => `--block:${n}=${v}`)];
        const mem = r.memory ? [`--mem=${r.memory}`] : [];
        return { ok: true, command: { file: `solo5-${abi.target}`, args: [...mem, ...devices, ...r.tenderArgs, '--', r.kernel, ...r.args] } };
      }
      case 'virtio': {
        const net = Object.values(r.net);
        const block = Object.values(r.block);
        if (net.length > 1 || block.length > 1) return { ok: false, problems: ['solo5-virtio-run attaches at most one network and one block device'] };
        const args = [...(net[0] ? ['-n', net[0]] : []), ...(block[0] ? ['-d', block[0]] : []), ...(r.memory ? ['-m', String(r.memory)] : []), ...r.tenderArgs];
        return { ok: true, command: { file: 'solo5-virtio-run', args: [...args, r.kernel, ...(r.args.length ? ['--', ...r.args] : [])] } };
      }
      default:
        return { ok: false, problems: [`${r.manifest.artifact} has the Solo5 ${abi.target} ABI, which has no standalone program to run it (Muen system policies and Genode are outside nx-mirage)`] };
    }
  }
  if (abi.backend === 'qemu') {
    return {
      ok: true,
      command: {
        file: 'qemu-system-x86_64',
        args: ['-nographic', '-nodefaults', '-serial', 'stdio', ...(r.memory ? ['-m', String(r.memory)] : []), ...r.tenderArgs, '-kernel', r.kernel, ...(r.args.length ? ['-append', r.args.join(' ')] : [])],
      },
    };
  }
  const vmConfig = JSON.stringify(
    {
      'boot-source': { kernel_image_path: r.kernel, boot_args: r.args.join(' ') },
      'machine-config': { vcpu_count: 1, mem_size_mib: r.memory ?? 128 },
    },
    null,
    2,
  );
  return { ok: true, command: { file: 'firecracker', args: ['--no-api', ...r.tenderArgs, '--config-file', r.vmConfigPath] }, vmConfig };
}

/**
 * Xen: mirage's `NAME.xl.in` rendered with the devices, memory and arguments given (see xen.ts), written as the
 * VM configuration, then `xl create -c` of it. A qubes unikernel has no xl configuration: it boots as a Qubes VM.
 */
function planXen(r: RunRequest): RunPlan {
  const kernel = basename(r.kernel);
  if (r.manifest.target === 'qubes') {
    return {
      ok: false,
      problems: [
        `${kernel} is a Qubes unikernel: it boots as the kernel of a Qubes VM, which nx run cannot start, and mirage writes no xl configuration for it. ` +
          `Copy dist/${kernel} to dom0 and set it as a VM's kernel (for example with qubes-test-mirage: test-unikernel ${kernel} VM), or build for xen to run it with xl.`,
      ],
    };
  }
  if (r.xen?.template === undefined) {
    return { ok: false, problems: [`${kernel.replace(/\.xen$/, '.xl.in')} is missing beside ${kernel}: rebuild the unikernel (mirage writes it with the xen target)`] };
  }
  const rendered = renderXenConfig({ template: r.xen.template, example: r.xen.example, kernel, memory: r.memory, net: r.net, block: r.block, args: r.args });
  if (!rendered.ok) return rendered;
  return { ok: true, command: { file: 'xl', args: ['create', '-c', ...r.tenderArgs, r.vmConfigPath] }, vmConfig: rendered.config };
}
