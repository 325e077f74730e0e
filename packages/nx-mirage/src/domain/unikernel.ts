/**
 * A unikernel as the mirage tool lays it out in a dune root: the files `mirage configure -f DIR/config.ml`
 * generates, the commands mirage's Makefile runs (as argument vectors, never shell strings), and the files
 * a build promotes into `DIR/dist/`.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { MIRAGE_TARGETS, artifactFileName, distFiles, opamName, targetInfo, type MirageTarget } from './targets';

export interface UnikernelRef {
  /** The name given to `register`. */
  name: string;
  /** Directory of config.ml relative to the dune root, posix separators, `.` for the root itself. */
  dir: string;
  target: MirageTarget;
}

export interface Command {
  /** Program, looked up on PATH. */
  file: string;
  args: string[];
  /** Extra environment for this command. */
  env?: Record<string, string>;
}

/** `dir/relative` with `.` meaning the root, posix separators. */
export function inDir(dir: string, relative: string): string {
  return dir === '.' || dir === '' ? relative : posix.join(dir, relative);
}

/**
 * A target as dune's command line reads it: dune parses each target as an s-expression, so a path with
 * spaces, quotes, parentheses or `;` is passed as a quoted dune string (backslashes and quotes escaped).
 */
export function duneTarget(target: string): string {
  return /^[A-Za-z0-9_./@+=,%-]+$/.test(target) ? target : `"${target.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Why dune cannot build in `dir`, or undefined: dune passes paths starting with `-` to the compilers, which read them as options. */
export function unbuildableDirectory(dir: string): string | undefined {
  const bad = dir.split('/').find((segment) => segment.startsWith('-'));
  return bad ? `its directory name "${bad}" starts with "-", which the OCaml compilers that dune runs read as an option; rename the directory` : undefined;
}

/**
 * Why `mirage configure` cannot configure a unikernel in `dir`, or undefined. mirage builds config.exe with
 * `dune build DIR/config.exe`, passing the path to dune as it is, and dune reads a command-line target as an
 * s-expression atom: white space, `"`, `(`, `)`, `;` and characters outside ASCII make it fail ("too many
 * s-expressions", "unterminated quoted string", "Invalid command line file") before anything is built.
 */
export function unconfigurableDirectory(dir: string): string | undefined {
  const bad = /[\s"();]|[^\x21-\x7e]|#\||\|#/.exec(dir);
  if (!bad) return unbuildableDirectory(dir);
  const what = /\s/.test(bad[0]) ? 'white space' : /[^\x21-\x7e]/.test(bad[0]) ? `the non-ASCII character ${JSON.stringify(bad[0])}` : `"${bad[0]}"`;
  return (
    `its directory ${JSON.stringify(dir)} contains ${what}: mirage configure passes DIR/config.exe to dune, which reads it as dune syntax and fails; ` +
    'rename the directory (letters, digits and - _ . + @ , = ~ % are safe)'
  );
}

/** A relative path as a command-line argument: one starting with `-` gets `./`, so no program reads it as an option. */
export function pathArg(path: string): string {
  return path.startsWith('-') ? `./${path}` : path;
}

/**
 * Files `mirage configure` writes inside the unikernel directory, as globs relative to it. The root
 * `dune-project`, `dune-workspace` and `Makefile` are not listed: nx-mirage owns those.
 */
export const CONFIGURE_OUTPUTS: readonly string[] = [
  'dune',
  'dune.build',
  'dune.config',
  'dist/dune',
  'mirage/context',
  'mirage/dune-workspace.config',
  'mirage/main.ml',
  'mirage/*.opam',
  'mirage/manifest.json',
  'mirage/manifest.ml',
  'mirage/*.xl',
  'mirage/*.xl.in',
  'mirage/*_libvirt.xml',
  'mirage/.nx-mirage-configured.json',
];

/** nx-mirage's record of what a unikernel was configured from and what configure wrote, inside its directory. */
export const CONFIGURE_STAMP = 'mirage/.nx-mirage-configured.json';

/** What decides the files configure writes: config.ml, the target, the flags, mirage's version and its extra repositories. */
export interface ConfigureInputs {
  /** sha256 of config.ml. */
  config: string;
  target: string;
  flags: readonly string[];
  mirage: string;
  extraRepos?: string;
}

/** The stamp configure leaves: its inputs, and the sha256 of every file it wrote (relative to the unikernel directory). */
export function renderConfigureStamp(inputs: ConfigureInputs, outputs: Readonly<Record<string, string>>): string {
  const sorted = Object.fromEntries(Object.entries(outputs).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ inputs: { ...inputs, flags: [...inputs.flags] }, outputs: sorted }, null, 2) + '\n';
}

/**
 * Whether a unikernel is configured from exactly these inputs and its generated files are as configure left
 * them: then configuring again would write the same files, and is skipped. With `ignoreDist`, what configure
 * wrote into dist/ (mirage's rule promoting the artifact there, which nx-mirage's build does not use) does
 * not count: a build replaces dist/ entries itself and must not configure again because of them.
 */
export function configureStampHolds(stamp: string | undefined, inputs: ConfigureInputs, outputs: Readonly<Record<string, string>>, ignoreDist = false): boolean {
  if (stamp === undefined || Object.keys(outputs).length === 0) return false;
  if (!ignoreDist) return stamp === renderConfigureStamp(inputs, outputs);
  const withoutDist = (files: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(files).filter(([f]) => !f.startsWith('dist/')));
  let recorded: { inputs: ConfigureInputs; outputs: Record<string, string> };
  try {
    recorded = JSON.parse(stamp) as typeof recorded;
  } catch {
    return false;
  }
  if (typeof recorded?.inputs !== 'object' || typeof recorded.outputs !== 'object' || recorded.outputs === null) return false;
  return renderConfigureStamp(recorded.inputs, withoutDist(recorded.outputs)) === renderConfigureStamp(inputs, withoutDist(outputs));
}

/** Whether `file` (relative to the unikernel directory) is one configure writes, the stamp excepted. */
export function isConfigureOutput(file: string): boolean {
  if (file === CONFIGURE_STAMP) return false;
  return CONFIGURE_OUTPUTS.some((glob) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(file));
}

/** The opam file configure generates, relative to the dune root. */
export function opamFile(u: UnikernelRef): string {
  return inDir(u.dir, `mirage/${opamName(u.name, u.target)}.opam`);
}

/** The opam-monorepo lockfile of a unikernel (mirage's Makefile location), relative to the dune root. */
export function lockFile(u: UnikernelRef): string {
  return `${opamFile(u)}.locked`;
}


/** `mirage configure -f DIR/config.ml -t TARGET FLAGS...`, run from the dune root. */
export function configureCommand(u: UnikernelRef, flags: readonly string[] = []): Command {
  return { file: 'mirage', args: ['configure', '-f', pathArg(inDir(u.dir, 'config.ml')), '-t', u.target, ...flags] };
}


const MONOREPO_ENV = { OPAMVAR_monorepo: 'opam-monorepo' };

/** `opam monorepo lock` as mirage's Makefile runs it for one unikernel. */
export function lockCommand(u: UnikernelRef, ocamlVersion: string): Command {
  return {
    file: 'opam',
    args: ['monorepo', 'lock', '--require-cross-compile', '--build-only', opamName(u.name, u.target), '-l', pathArg(lockFile(u)), '--ocaml-version', ocamlVersion],
    env: MONOREPO_ENV,
  };
}

/** The lockfile shared by all unikernels of a dune root when they are locked together (mirage-skeleton's name). */
export const WORKSPACE_LOCK_FILE = 'mirage.opam.locked';

/**
 * One lock over every unikernel of the dune root, as mirage-skeleton's Makefile does: all generated opam
 * packages, resolved together, so every unikernel builds against the same versions and one duniverse/.
 */
export function workspaceLockCommand(unikernels: readonly UnikernelRef[], ocamlVersion: string): Command {
  const packages = [...new Set(unikernels.map((u) => opamName(u.name, u.target)))].sort();
  return {
    file: 'opam',
    args: ['monorepo', 'lock', '--recurse-opam', ...packages, '--build-only', '--ocaml-version', ocamlVersion, '-l', WORKSPACE_LOCK_FILE],
    env: MONOREPO_ENV,
  };
}

/** `opam monorepo pull` of the shared lockfile into the dune root's duniverse/. */
export function workspacePullCommand(rootAbs: string): Command {
  return { file: 'opam', args: ['monorepo', 'pull', '-l', WORKSPACE_LOCK_FILE, '-r', rootAbs], env: MONOREPO_ENV };
}

/** `opam install DIR/mirage/X.opam ... --deps-only --yes`: the switch tools (mirage, solo5, ocaml-solo5, ...) of every unikernel, in one call. */
export function installSwitchCommand(unikernels: readonly UnikernelRef[]): Command {
  const files = unikernels.map((u) => `./${inDir(u.dir, `mirage/${opamName(u.name, u.target)}.opam`)}`);
  return { file: 'opam', args: ['install', ...files, '--deps-only', '--yes'] };
}

/** `opam monorepo pull`: vendors the locked sources into `DIR/duniverse/`. `rootAbs` is the dune root's absolute path. */
export function pullCommand(u: UnikernelRef, rootAbs: string): Command {
  return {
    file: 'opam',
    args: ['monorepo', 'pull', '-l', pathArg(lockFile(u)), '-r', posix.join(rootAbs, u.dir === '' ? '.' : u.dir)],
    env: MONOREPO_ENV,
  };
}


export interface CleanSet {
  /** Globs relative to the unikernel directory: generated files (the lockfile excepted) and dist/ artifacts. */
  globs: string[];
  /** Globs relative to the dune root matching files only: for a unikernel at the dune root, its files in each context. */
  buildFiles: string[];
  /** Plain paths relative to the dune root: the unikernel's directories in every dune context. */
  paths: string[];
}

const CONTEXTS = ['default', 'solo5', 'unikraft', ...(['qemu', 'firecracker'] as const).map((b) => `_build.unikraft-${b}/unikraft`)] as const;

/**
 * What `clean` removes for one unikernel, leaving other unikernels, the lockfile and duniverse/ alone. A
 * unikernel at the dune root shares each context's top directory with every other directory of the root, so
 * only its files there and the directories mirage's rules make for it go, never the context.
 */
export function cleanSet(u: UnikernelRef): CleanSet {
  const globs = [
    ...CONFIGURE_OUTPUTS,
    ...MIRAGE_TARGETS.flatMap((t) => distFiles(u.name, t).map((f) => `dist/${f}`)),
    ...MIRAGE_TARGETS.map((t) => `dist/${distFiles(u.name, t)[0]}.manifest.json`),
  ];
  const inContext = (ctx: string, path: string) => (ctx.includes('/') ? posix.join(ctx, path) : posix.join('_build', ctx, path));
  if (u.dir !== '.') return { globs, buildFiles: [], paths: CONTEXTS.map((ctx) => inContext(ctx, u.dir)) };
  return {
    globs,
    buildFiles: CONTEXTS.map((ctx) => inContext(ctx, '*')),
    paths: CONTEXTS.flatMap((ctx) => ['.main.eobjs', '.config.eobjs', 'dist', 'mirage'].map((d) => inContext(ctx, d))),
  };
}

/**
 * The dune build directory of `target`'s builds, relative to the dune root. mirage's rules build every Unikraft
 * unikernel in a context named `unikraft`, whose flags choose the backend, so one context cannot link both:
 * the dune root's `unikraft` context links qemu when qemu is in use, and the other backend builds in a build
 * directory of its own, `_build.unikraft-BACKEND`, with a workspace whose `unikraft` context links it.
 */
export function buildDirFor(target: MirageTarget, targetsInUse: readonly MirageTarget[]): string {
  const abi = targetInfo(target).abi;
  if (abi.kind !== 'unikraft') return '_build';
  return abi.backend === rootUnikraftBackend(targetsInUse) ? '_build' : `_build.unikraft-${abi.backend}`;
}

/** The backend the dune root's `unikraft` context links: qemu when a qemu unikernel is in use, else firecracker. */
export function rootUnikraftBackend(targetsInUse: readonly MirageTarget[]): 'qemu' | 'firecracker' {
  return targetsInUse.includes('unikraft-qemu') ? 'qemu' : 'firecracker';
}

/** Where dune builds the artifact (the rule in dune.build), relative to the dune root: `_build/<context>/DIR/NAME.ext`. */
export function builtArtifactPath(u: UnikernelRef, buildDir = '_build'): string {
  return posix.join(buildDir, targetInfo(u.target).context, u.dir, artifactFileName(u.name, u.target));
}

/** A library directory to build, in the contexts given (`_build/CTX`). */
export interface LibraryBuild {
  dir: string;
  contexts: readonly string[];
}

/**
 * One `dune build` of library directories and unikernel artifacts, as mirage-skeleton builds everything in one
 * call: dune orders the work by what each target needs. A library is its directory's default alias in each of its
 * contexts, not recursively (`@@_build/CTX/DIR/default`), built in `_build` only. A unikernel is its artifact
 * itself, in its context (in `buildDir`, when not `_build`): nx-mirage copies it into dist/ atomically rather
 * than through dune's promotion, which writes dist/ files in place.
 */
export function buildCommand({ libraries = [], unikernels = [], workspaceFile, buildDir = '_build' }: { libraries?: readonly LibraryBuild[]; unikernels?: readonly UnikernelRef[]; workspaceFile?: string; buildDir?: string }): Command {
  if (libraries.length > 0 && buildDir !== '_build') throw new Error(`libraries are built in _build, not ${buildDir}`);
  const aliases = libraries.flatMap((l) => l.contexts.map((c) => `@@${posix.join('_build', c, l.dir, 'default')}`));
  const artifacts = [...new Set(unikernels.map((u) => builtArtifactPath(u, buildDir)))];
  const workspace = workspaceFile ? ['--workspace', workspaceFile] : [];
  const dir = buildDir === '_build' ? [] : ['--build-dir', buildDir];
  return { file: 'dune', args: ['build', '--profile', 'release', '--root', '.', ...dir, ...workspace, ...[...aliases, ...artifacts].map(duneTarget)] };
}

/** Xen's `xl` files, copied into dist/ from the unikernel's mirage/ directory (relative to the unikernel dir). */
export function xlFiles(u: UnikernelRef): Array<{ from: string; to: string }> {
  if (u.target !== 'xen') return [];
  return [`${u.name}.xl`, `${u.name}.xl.in`].map((f) => ({ from: `mirage/${f}`, to: `dist/${f}` }));
}

/**
 * The lockfile records which opam files it was locked from, in an `x-` field that opam and opam-monorepo
 * ignore, so that freshness follows content (a fresh clone or a cache restore changes mtimes, not content).
 */
const LOCK_INPUTS_FIELD = 'x-nx-mirage-locked-from';

export function lockInputsDigest(opamFiles: readonly string[]): string {
  return createHash('sha256').update(opamFiles.join('\0')).digest('hex');
}

export function lockedFrom(lockfile: string): string | undefined {
  return new RegExp(`^${LOCK_INPUTS_FIELD}:\\s*"([0-9a-f]+)"`, 'm').exec(lockfile)?.[1];
}

export function recordLockedFrom(lockfile: string, digest: string): string {
  const without = lockfile.replace(new RegExp(`^${LOCK_INPUTS_FIELD}:.*\\n?`, 'm'), '');
  return `${without}${without.endsWith('\n') || without === '' ? '' : '\n'}${LOCK_INPUTS_FIELD}: "${digest}"\n`;
}

/**
 * dune for a library directory: `build` is the directory's default alias in the given contexts, the host
 * context unless unikernels built in the same run need it in their cross contexts (`@@_build/CTX/DIR/default`), `test` its runtest alias (dune's dev profile, as `dune test`), `format`
 * the @fmt alias with promotion.
 */
export function duneDirCommand(action: 'build' | 'test' | 'format', dir: string, workspaceFile?: string, contexts: readonly string[] = ['default']): Command {
  const workspace = workspaceFile ? ['--workspace', workspaceFile] : [];
  const inDefault = (alias: string) => posix.join('_build/default', dir, alias);
  switch (action) {
    case 'build':
      return buildCommand({ libraries: [{ dir, contexts }], workspaceFile });
    case 'test':
      return { file: 'dune', args: ['build', '--root', '.', ...workspace, duneTarget(`@${inDefault('runtest')}`)] };
    case 'format':
      return { file: 'dune', args: ['build', '--root', '.', '--auto-promote', duneTarget(`@${inDir(dir, 'fmt')}`)] };
  }
}
