/**
 * The mirage 4.11 targets (`mirage configure -t TARGET`): which dune context compiles each, the artifact it
 * promotes into `<unikernel>/dist/`, the binary ABI, and the program that runs it.
 */

export const MIRAGE_TARGETS = [
  'unix',
  'macosx',
  'hvt',
  'spt',
  'virtio',
  'muen',
  'genode',
  'xen',
  'qubes',
  'unikraft-qemu',
  'unikraft-firecracker',
] as const;

export type MirageTarget = (typeof MIRAGE_TARGETS)[number];

/** Target families: how the unikernel is linked and hosted. */
export type TargetFamily = 'unix' | 'solo5' | 'xen' | 'unikraft';

/** Dune build contexts as mirage's generated dune-workspace names them. */
export type DuneContext = 'default' | 'solo5' | 'unikraft';

/** Findlib toolchains that a cross context needs (`(toolchain solo5)`). */
export type FindlibToolchain = 'solo5' | 'unikraft';

export type Solo5AbiTarget = 'hvt' | 'spt' | 'virtio' | 'muen' | 'genode' | 'xen';

export type TargetAbi =
  | { kind: 'host' }
  /** Solo5 bindings selected at link time with `-z solo5-abi=TARGET`; `version` is the ABI version in the ELF note. */
  | { kind: 'solo5'; target: Solo5AbiTarget; version: number | undefined }
  | { kind: 'unikraft'; backend: 'qemu' | 'firecracker' };

/** The program that runs an artifact of this target, if there is one outside a larger system. */
export interface TargetRunner {
  program: string;
  /** How the program is used, for messages and help. `KERNEL` stands for the artifact. */
  usage: string;
}

export interface TargetInfo {
  target: MirageTarget;
  family: TargetFamily;
  context: DuneContext;
  toolchain: FindlibToolchain | undefined;
  /** Appended to the unikernel name to form the artifact file name in `dist/` (`''` for unix). */
  extension: string;
  abi: TargetAbi;
  runner: TargetRunner | undefined;
  /** Default name of the network device that `mirage` gives a stack on this target. */
  defaultNetworkDevice: string;
  /** False for targets that mirage accepts but current Solo5 cannot link. */
  supported: boolean;
  note?: string;
}

/** A target linked against Solo5 bindings: compiled in the `solo5` context with the `solo5` findlib toolchain. */
function solo5(
  abiTarget: Solo5AbiTarget,
  abiVersion: number | undefined,
  runner: TargetRunner | undefined,
  rest: Partial<Omit<TargetInfo, 'target'>> = {},
): Omit<TargetInfo, 'target'> {
  return {
    family: 'solo5',
    context: 'solo5',
    toolchain: 'solo5',
    extension: `.${abiTarget}`,
    abi: { kind: 'solo5', target: abiTarget, version: abiVersion },
    runner,
    defaultNetworkDevice: 'service',
    supported: true,
    ...rest,
  };
}

function host(): Omit<TargetInfo, 'target'> {
  return {
    family: 'unix',
    context: 'default',
    toolchain: undefined,
    extension: '',
    abi: { kind: 'host' },
    runner: { program: 'KERNEL', usage: './dist/NAME [runtime arguments]' },
    defaultNetworkDevice: 'tap0',
    supported: true,
  };
}

function unikraft(backend: 'qemu' | 'firecracker', extension: string, runner: TargetRunner): Omit<TargetInfo, 'target'> {
  return {
    family: 'unikraft',
    context: 'unikraft',
    toolchain: 'unikraft',
    extension,
    abi: { kind: 'unikraft', backend },
    runner,
    defaultNetworkDevice: '0',
    supported: true,
  };
}

const solo5Usage = (tender: string) => `${tender} [--mem=MB] [--net:NAME=TAP] [--block:NAME=FILE] -- KERNEL [runtime arguments]`;

const TABLE: Record<MirageTarget, Omit<TargetInfo, 'target'>> = {
  unix: host(),
  macosx: host(),
  hvt: solo5('hvt', 2, { program: 'solo5-hvt', usage: solo5Usage('solo5-hvt') }),
  spt: solo5('spt', 2, { program: 'solo5-spt', usage: solo5Usage('solo5-spt') }),
  virtio: solo5('virtio', 1, { program: 'solo5-virtio-run', usage: 'solo5-virtio-run [-n TAP] [-d DISK] [-m MB] KERNEL [-- runtime arguments]' }),
  muen: solo5('muen', 4, undefined, { note: 'Muen subjects are started by a Muen system policy, not by a standalone program.' }),
  genode: solo5('genode', undefined, undefined, {
    supported: false,
    note: 'Solo5 removed its Genode bindings in v0.7.0 and mirage requires solo5 >= 0.7.5, so genode unikernels cannot be linked.',
  }),
  xen: solo5('xen', 1, { program: 'xl', usage: 'xl create -c dist/NAME.xl' }, { family: 'xen', defaultNetworkDevice: '0' }),
  qubes: solo5('xen', 1, undefined, {
    family: 'xen',
    defaultNetworkDevice: '0',
    note: 'Qubes unikernels run as a Qubes VM whose kernel is the .xen file.',
  }),
  'unikraft-qemu': unikraft('qemu', '.qemu', {
    program: 'qemu-system-x86_64',
    usage: 'qemu-system-x86_64 -nographic -nodefaults -serial stdio -kernel KERNEL [-append "runtime arguments"]',
  }),
  'unikraft-firecracker': unikraft('firecracker', '.fc', { program: 'firecracker', usage: 'firecracker --no-api --config-file VM.json' }),
};

export function isMirageTarget(value: string): value is MirageTarget {
  return (MIRAGE_TARGETS as readonly string[]).includes(value);
}

export function targetInfo(target: MirageTarget): TargetInfo {
  return { target, ...TABLE[target] };
}

export function allTargets(): TargetInfo[] {
  return MIRAGE_TARGETS.map(targetInfo);
}

/** The artifact `mirage` promotes for `name` on `target`, relative to the unikernel's `dist/`. */
export function artifactFileName(name: string, target: MirageTarget): string {
  return name + TABLE[target].extension;
}

/**
 * Every file a build of `target` places in `dist/`: the artifact, and for Xen the `xl` configuration and its
 * template (installed from the `default` context).
 */
export function distFiles(name: string, target: MirageTarget): string[] {
  const files = [artifactFileName(name, target)];
  if (target === 'xen') files.push(`${name}.xl`, `${name}.xl.in`);
  return files;
}

/**
 * The opam package name mirage derives for a unikernel: `opamify(NAME-TARGET)`, where `.` becomes `_` and
 * characters outside `[A-Za-z0-9_-]` are dropped. It names `mirage/<opam>.opam` and its lockfile.
 */
export function opamName(name: string, target: MirageTarget): string {
  return `${name}-${target}`.replace(/\./g, '_').replace(/[^A-Za-z0-9_-]/g, '');
}

/** The contexts a dune workspace needs so that every target in `targets` can be built. */
export function contextsFor(targets: Iterable<MirageTarget>): DuneContext[] {
  const needed = new Set<DuneContext>(['default']);
  for (const t of targets) needed.add(TABLE[t].context);
  return (['default', 'solo5', 'unikraft'] as const).filter((c) => needed.has(c));
}

/** The findlib toolchains that building every target in `targets` needs (one each, in first-use order). */
export function findlibToolchainsFor(targets: Iterable<MirageTarget>): FindlibToolchain[] {
  const needed = new Set<FindlibToolchain>();
  for (const t of targets) {
    const toolchain = TABLE[t].toolchain;
    if (toolchain) needed.add(toolchain);
  }
  return [...needed];
}

/**
 * The packages mirage 4.11.1's generated code links for a target beyond those config.ml names (monorepo scope,
 * so in the lockfile), as its generated opam files list them for a unikernel with no devices: the runtime, the
 * default devices (sleep, clocks, boot arguments, logs, entropy) and the target's platform library.
 */
export function runtimePackages(target: MirageTarget): string[] {
  const info = TABLE[target];
  const platform =
    info.family === 'unix' ? 'mirage-unix' : info.family === 'xen' ? 'mirage-xen' : info.family === 'unikraft' ? 'mirage-unikraft' : 'mirage-solo5';
  return ['cmdliner-stdlib', 'lwt', 'mirage-bootvar', 'mirage-crypto-rng-mirage', 'mirage-logs', 'mirage-mtime', 'mirage-ptime', 'mirage-runtime', 'mirage-sleep', platform];
}
