/**
 * The programs nx-mirage runs, and how a user gets each one. Messages name the tool and the command that fixes it.
 */
export interface ToolHelp {
  /** What the tool is for, as a clause: "to configure unikernels". */
  purpose: string;
  /** The command (or commands) that install it. */
  install: string;
}

const TOOLS: Record<string, ToolHelp> = {
  mirage: { purpose: 'to configure unikernels', install: "opam install 'mirage>=4.11.0'" },
  dune: { purpose: 'to build unikernels', install: 'opam install dune (or: apt-get install dune)' },
  ocamlfind: { purpose: 'to find OCaml libraries and cross toolchains', install: 'opam install ocamlfind (or: apt-get install ocaml-findlib)' },
  opam: { purpose: 'to install switch tools and run opam-monorepo', install: 'apt-get install opam (or see https://opam.ocaml.org/doc/Install.html), then: opam init' },
  'opam-monorepo': {
    purpose: 'to lock and vendor unikernel dependencies (the opam plugin `opam monorepo`)',
    install: 'opam install opam-monorepo (or, when the opam switch has every library the unikernels use, set "monorepo": false in the nx-mirage options)',
  },
  'solo5-hvt': { purpose: 'to run hvt unikernels', install: 'opam install solo5' },
  'solo5-spt': { purpose: 'to run spt unikernels', install: 'opam install solo5' },
  'solo5-virtio-run': { purpose: 'to run virtio unikernels', install: 'opam install solo5' },
  xl: { purpose: 'to run Xen unikernels', install: 'install the Xen toolstack of your distribution (for example: apt-get install xen-utils)' },
  'qemu-system-x86_64': { purpose: 'to run unikraft-qemu unikernels', install: 'apt-get install qemu-system-x86' },
  firecracker: { purpose: 'to run unikraft-firecracker unikernels', install: 'install firecracker from its release page' },
};

export function toolHelp(tool: string): ToolHelp {
  return TOOLS[tool] ?? { purpose: 'for this task', install: `install ${tool} and make sure it is on PATH` };
}

export function missingToolMessage(tool: string, forWhat?: string): string {
  const help = toolHelp(tool);
  return `\`${tool}\` was not found on PATH; it is needed ${forWhat ?? help.purpose}. Install it with: ${help.install}`;
}

/**
 * Version probes that make up the toolchain fingerprint. The same commands are the runtime inputs of
 * configure and build, so Nx hashes exactly what the manifest records.
 */
export const VERSION_PROBES = {
  mirage: ['mirage', '--version'],
  dune: ['dune', '--version'],
  ocaml: ['ocamlfind', 'ocamlopt', '-version'],
} as const satisfies Record<string, readonly string[]>;

/** The cross compiler of a findlib toolchain; ocamlfind warns "Undefined toolchain" when it is not defined. */
export function crossCompilerProbe(toolchain: string): readonly string[] {
  return ['ocamlfind', '-toolchain', toolchain, 'ocamlopt', '-version'];
}

/** A command as one POSIX shell string (what Nx runtime inputs take), each word quoted when it needs it. */
export function probeAsShellCommand(probe: readonly string[]): string {
  return probe.map((w) => (/^[\w./@%+=:,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** An undefined findlib toolchain that builds of `targets` need: the reason, and how to define it. */
export function undefinedToolchainMessage(toolchain: string, targets: readonly string[], reason: string): string {
  return (
    `the ${toolchain} findlib toolchain that ${[...new Set(targets)].join(' and ')} builds need is not defined: ${reason}. ` +
    `Install it in the opam switch (opam install ${toolchain === 'solo5' ? 'ocaml-solo5' : 'ocaml-unikraft'}), ` +
    `or point OCAMLFIND_CONF at a findlib.conf whose findlib.conf.d/${toolchain}.conf defines it.`
  );
}

/**
 * Whether this dune fails to use its shared cache in a git repository without a commit: dune 2.x does (it
 * cannot work out the repository's state); dune 3 fills and uses the cache there (3.20: 1.6 s instead of 10.6 s
 * after `rm -rf _build`). An unknown version is taken as 2.x, which only costs speed.
 */
export function duneCacheFailsWithoutCommit(duneVersion: string | undefined): boolean {
  const major = Number(/^(\d+)\./.exec(duneVersion ?? '')?.[1]);
  return !(major >= 3);
}
