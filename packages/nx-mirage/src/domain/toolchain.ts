/**
 * The OCaml toolchain a workspace of unikernels needs: the switch-scope packages (`{ build & ... }` in the opam
 * files mirage generates) with their constraints, the compiler and the opam repositories, and the key that
 * identifies that set. A managed opam switch is keyed by it: the same key never runs opam again.
 */
import { createHash } from 'node:crypto';
import { opamDependsBlock, sortedByKey } from './dune-file';
import { MIRAGE_TARGETS, findlibToolchainsFor, targetInfo, type FindlibToolchain, type MirageTarget } from './targets';
import type { VersionConstraint } from './version';

/** A package of the switch with its version formula in opam syntax (`>= "4.11.0" & < "4.12.0"`), if any. */
export interface SwitchRequirement {
  name: string;
  constraint?: string;
}

export interface OpamRepository {
  name: string;
  url: string;
}

export interface ToolchainSpec {
  /** The compiler package of the switch (`ocaml-base-compiler.5.4.1`, `ocaml-system`). */
  compiler: string;
  repositories: OpamRepository[];
  packages: SwitchRequirement[];
}

/** Where the toolchain comes from: a switch nx-mirage manages, or whatever is on PATH (opam switch, Nix, system). */
export type ToolchainSource = 'managed' | 'path';

/** The managed switch's name inside its opam root. */
export const MANAGED_SWITCH = 'nx-mirage';

/** The default compiler of a managed switch: one that ocaml-solo5 1.x (mirage 4.11's solo5 targets) accepts. */
export const DEFAULT_COMPILER = 'ocaml-base-compiler.5.4.1';

export const DEFAULT_REPOSITORIES: readonly OpamRepository[] = [{ name: 'default', url: 'https://opam.ocaml.org' }];

/** The record of the toolchain in use, relative to the workspace root; configure and build hash it. */
export const TOOLCHAIN_RECORD = '.nx-mirage/toolchain.json';

/**
 * The stamp of the record (relative to the workspace root): what the toolchain task derived it from, as seen
 * on this machine. While everything in it is unchanged, the record is too, so the toolchain task is cached
 * under the stamp's digest (a runtime input) instead of running in every Nx run.
 */
export const TOOLCHAIN_STAMP = '.nx-mirage/toolchain.stamp.json';

/** Environment variables besides PATH that decide which toolchain is used and how it is found. */
export const TOOLCHAIN_ENV = ['NX_MIRAGE_TOOLCHAIN_DIR', 'NX_MIRAGE_OPAM_REPOSITORY', 'NX_MIRAGE_OPAM_COMPILER', 'OCAMLFIND_CONF', 'OCAMLFIND_TOOLCHAIN'] as const;

/** The tools whose presence on PATH (mode "auto") and whose files (their versions) decide the record. */
export const TOOLCHAIN_TOOLS = ['mirage', 'dune', 'ocamlfind', 'ocamlopt', 'opam'] as const;

/** A stamp: what a task's result was derived from, as seen on this machine when it finished. */
export interface Stamp {
  /** sha256 of what the task made (the rendered record), or of what the stamp is about. */
  record: string;
  /** The environment variables the task reads (TOOLCHAIN_ENV, DEPENDS_ENV) as they were, null for unset. */
  env: Record<string, string | null>;
  /** Each of TOOLCHAIN_TOOLS: its path on PATH and file signature, or null when it is not on PATH. */
  tools: Record<string, string | null>;
  /** Content hash of every file (entries of every directory) the record was derived from, null for an absent one. */
  files: Record<string, string | null>;
}

/** A stamp in canonical form (sorted keys), so that equal stamps render equal. */
export function renderStamp(stamp: Stamp): string {
  return JSON.stringify({ record: stamp.record, env: sortedByKey(stamp.env), tools: sortedByKey(stamp.tools), files: sortedByKey(stamp.files) }, null, 2) + '\n';
}

/** Default directory of the managed switch (opam root and state), relative to the workspace root. */
export const DEFAULT_TOOLCHAIN_DIR = '.nx-mirage/toolchain';

const range = (min: string, max?: string) => `>= "${min}"${max ? ` & < "${max}"` : ''}`;

/**
 * Switch-scope packages mirage 4.11.1 writes into the opam file of a unikernel (`target.ml`, `mirage.ml`),
 * plus the tools nx-mirage itself runs (dune, ocamlfind).
 */
export function predictedSwitchPackages(target: MirageTarget): SwitchRequirement[] {
  const info = targetInfo(target);
  const family = info.family;
  // mirage lists opam-monorepo for every unikernel, whether or not its dependencies are vendored.
  const out: SwitchRequirement[] = [
    { name: 'mirage', constraint: range('4.11.0', '4.12.0') },
    { name: 'opam-monorepo', constraint: range('0.3.2') },
    { name: 'dune' },
    { name: 'ocamlfind' },
  ];
  if (family === 'solo5' || family === 'xen') out.push({ name: 'ocaml-solo5', constraint: range('0.8.2', '2.0.0') }, { name: 'solo5', constraint: range('0.7.5', '0.13.0') });
  // Each Unikraft backend is a package of its own: a qemu and a firecracker unikernel need both.
  if (info.abi.kind === 'unikraft') out.push({ name: 'ocaml-unikraft', constraint: range('1.0.0', '2.0.0') }, { name: `ocaml-unikraft-backend-${info.abi.backend}` });
  return out;
}

/** A config.ml version guard (`(* mirage >= 4.9.0 & < 4.12.0 *)`) as a constraint on the mirage package. */
export function guardRequirement(constraints: readonly VersionConstraint[]): SwitchRequirement | undefined {
  if (constraints.length === 0) return undefined;
  return { name: 'mirage', constraint: constraints.map((c) => `${c.op} "${c.version}"`).join(' & ') };
}

/**
 * The switch-scope dependencies of an opam file that mirage generated: the `depends` entries whose filter
 * holds `build` (monorepo-scope entries carry `?monorepo` instead), with the rest of the filter as constraint.
 */
export function readSwitchDependencies(opamText: string): SwitchRequirement[] {
  const out: SwitchRequirement[] = [];
  for (const m of opamDependsBlock(opamText).matchAll(/"([^"]+)"\s*(?:\{([^}]*)\})?/g)) {
    const terms = formulaTerms(m[2]);
    if (!terms.includes('build') || terms.some((t) => t.startsWith('?'))) continue;
    const rest = terms.filter((t) => t !== 'build');
    out.push({ name: m[1]!, ...(rest.length ? { constraint: rest.join(' & ') } : {}) });
  }
  return out;
}

/** The `&`-separated terms of an opam filter or version formula. */
function formulaTerms(formula: string | undefined): string[] {
  return (formula ?? '').split('&').map((t) => t.trim()).filter(Boolean);
}

/** One requirement per package, the constraints of all of them joined with `&` (identical terms once), sorted. */
export function mergeRequirements(lists: Iterable<readonly SwitchRequirement[]>): SwitchRequirement[] {
  const terms = new Map<string, Set<string>>();
  for (const list of lists) {
    for (const r of list) {
      const set = terms.get(r.name) ?? new Set<string>();
      for (const t of formulaTerms(r.constraint)) set.add(t);
      terms.set(r.name, set);
    }
  }
  return [...terms.keys()].sort().map((name) => {
    const set = [...terms.get(name)!];
    return set.length ? { name, constraint: set.join(' & ') } : { name };
  });
}

/** The key of a toolchain: the same packages, constraints, compiler and repositories give the same key. */
export function toolchainKey(spec: ToolchainSpec): string {
  const canonical = JSON.stringify({
    compiler: spec.compiler,
    repositories: spec.repositories.map((r) => [r.name, r.url]),
    packages: mergeRequirements([spec.packages]).map((p) => [p.name, p.constraint ?? '']),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/**
 * The opam file nx-mirage installs the switch from (`opam install --deps-only FILE`): one package whose
 * dependencies are the switch requirements, so opam's solver installs or upgrades only what does not satisfy them.
 */
export function renderToolchainOpamFile(spec: ToolchainSpec): string {
  const deps = mergeRequirements([spec.packages]).map((p) => `  "${p.name}"${p.constraint ? ` { ${p.constraint} }` : ''}`);
  return [
    'opam-version: "2.0"',
    'name: "nx-mirage-toolchain"',
    'version: "dev"',
    'synopsis: "Switch-scope tools of the unikernels of an Nx workspace (written by nx-mirage)"',
    'maintainer: "nx-mirage"',
    'authors: "nx-mirage"',
    'homepage: "https://github.com/mirage/mirage"',
    'bug-reports: "https://github.com/mirage/mirage/issues"',
    `x-nx-mirage-toolchain-key: "${toolchainKey(spec)}"`,
    'depends: [',
    ...deps,
    ']',
    '',
  ].join('\n');
}

/** The package name of a compiler spec (`ocaml-base-compiler.5.4.1` → `ocaml-base-compiler`). */
export function compilerPackageName(compiler: string): string {
  return compiler.split('.', 1)[0]!;
}

/**
 * `opam list --columns=name,installed-version --short` output (one `name version` per line) as a map, keeping
 * only the packages asked for.
 */
export function readInstalledVersions(listing: string, wanted: readonly string[]): Record<string, string> {
  const want = new Set(wanted);
  const out: Record<string, string> = {};
  for (const line of listing.split('\n')) {
    const [name, version] = line.trim().split(/\s+/);
    if (name && version && want.has(name) && version !== '--') out[name] = version;
  }
  return out;
}

/**
 * `opam env --sexp` output (`((VAR "value") ...)`) as variables. Values are OCaml string literals; only the
 * escapes opam writes (`\\` and `\"`) occur in paths.
 */
export function readOpamEnvSexp(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/\(\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s+"((?:[^"\\]|\\.)*)"\s*\)/g)) {
    out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  }
  return out;
}

/** What the toolchain record holds: machine-independent, so equal toolchains give equal task hashes. */
export interface ToolchainRecord {
  source: ToolchainSource;
  /** The managed switch key; absent for a toolchain from PATH. */
  key?: string;
  compiler?: string;
  versions: Record<string, string>;
}

export function renderToolchainRecord(record: ToolchainRecord): string {
  return JSON.stringify({ ...record, versions: sortedByKey(record.versions) }, null, 2) + '\n';
}

/** The record's name for the version of a findlib toolchain's cross compiler. */
export const crossVersionName = (toolchain: FindlibToolchain) => `ocamlfind -toolchain ${toolchain}`;

/**
 * The record again, one file per tool (relative to the workspace root), with `source` (where the toolchain
 * comes from: PATH, or the managed switch and its key): what builds hash, each only the files of the tools it
 * runs, so that another target's cross compiler (or mirage, for a library) never reaches its key. They are the
 * toolchain task's outputs, so Nx reads them after that task of the run; version probes as runtime inputs of
 * the builds would run again each time Nx hashes a task that waited for another (Nx 24 keeps a runtime input's
 * output for one hashing pass only), several times a run.
 */
export const TOOLCHAIN_VERSIONS = '.nx-mirage/versions';

/** A tool whose version is in the record: mirage, dune, the host compiler, or a cross toolchain. */
export type VersionedTool = 'mirage' | 'dune' | 'ocaml' | FindlibToolchain;

const HOST_TOOLS = ['mirage', 'dune', 'ocaml'] as const;
const isCrossToolchain = (tool: VersionedTool): tool is FindlibToolchain => !(HOST_TOOLS as readonly string[]).includes(tool);

/** Every versioned tool: the host's, and the cross toolchain of every mirage target that has one. */
const VERSIONED_TOOLS: readonly VersionedTool[] = [...HOST_TOOLS, ...findlibToolchainsFor(MIRAGE_TARGETS)];

/** The tool's name in the record's versions, and its file under TOOLCHAIN_VERSIONS. */
const recordName = (tool: VersionedTool) => (isCrossToolchain(tool) ? crossVersionName(tool) : tool);
const versionFileName = (tool: VersionedTool) => (isCrossToolchain(tool) ? `cross-${tool}` : tool);

/**
 * The files of TOOLCHAIN_VERSIONS for `record`: file name → content. A managed switch is one whole (its key,
 * compiler and installed package versions, in `source`); from PATH, each tool with a version has its file.
 */
export function toolchainVersionFiles(record: ToolchainRecord): Record<string, string> {
  if (record.source === 'managed') return { source: renderToolchainRecord(record) };
  const files: Record<string, string> = { source: 'path\n' };
  for (const tool of VERSIONED_TOOLS) {
    const version = record.versions[recordName(tool)];
    if (version) files[versionFileName(tool)] = `${version}\n`;
  }
  return files;
}

/** The pattern (dependentTasksOutputFiles) matching the version files of `tools` and the source, one `{a,b}` glob. */
export function toolchainVersionsGlob(tools: readonly VersionedTool[]): string {
  const names = ['source', ...[...new Set(tools)].map(versionFileName)];
  return `${TOOLCHAIN_VERSIONS}/{${names.join(',')}}`;
}
