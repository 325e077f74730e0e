/**
 * The managed toolchain: an opam root and switch under a directory nx-mirage owns, holding the switch-scope
 * tools of the workspace's unikernels. The switch is keyed (domain `toolchainKey`): an unchanged key returns
 * the recorded state without running opam; a changed key asks opam's solver to install or upgrade what no
 * longer satisfies the requirements. A failed change leaves the previous switch and its state in use.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MANAGED_SWITCH,
  compilerPackageName,
  readInstalledVersions,
  readOpamEnvSexp,
  renderToolchainOpamFile,
  toolchainKey,
  type OpamRepository,
  type ToolchainSpec,
} from '../domain';
import { writeFileAtomically } from './files';
import { findOnPath } from './path-lookup';
import { runCommand } from './process';
import { withDirectoryLock } from './lock';

export class ToolchainError extends Error {
  override name = 'ToolchainError';
}

/** Stands for the PATH of the process that applies a recorded environment. */
const PATH_PLACEHOLDER = '@NX_MIRAGE_PATH@';

interface SwitchState {
  key: string;
  spec: ToolchainSpec;
  switchName: string;
  prefix: string;
  versions: Record<string, string>;
  /** `opam env` of the switch, PATH relative to PATH_PLACEHOLDER. */
  env: Record<string, string>;
}

/** The switch in use: its recorded state, with `env` holding this process's PATH in place of the placeholder. */
export interface ManagedToolchain extends Pick<SwitchState, 'key' | 'prefix' | 'versions' | 'env'> {
  source: 'managed';
  dir: string;
  compiler: string;
  action: 'created' | 'updated' | 'reused';
  /** Packages whose installed version changed (`name: old -> new`), when updated. */
  changes: string[];
}

export interface EnsureOptions {
  /** The toolchain directory: the opam root is `DIR/opam`. */
  dir: string;
  spec: ToolchainSpec;
  /** Progress lines ("nx-mirage: creating ..."). */
  log?: (line: string) => void;
  /** Show opam's output while it works (default: captured, shown only when it fails). */
  showOpamOutput?: boolean;
}

/** The switch state in the toolchain directory (key, versions, environment). */
export const SWITCH_STATE_FILE = 'state.json';

export function switchNameFor(compiler: string): string {
  return `${MANAGED_SWITCH}-${compiler.replace(/[^A-Za-z0-9._+-]/g, '_')}`;
}

async function readState(dir: string): Promise<SwitchState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, SWITCH_STATE_FILE), 'utf8')) as SwitchState;
  } catch {
    return undefined;
  }
}

export function withProcessPath(env: Record<string, string>, path = process.env['PATH'] ?? ''): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.split(PATH_PLACEHOLDER).join(path)]));
}

function toToolchain(dir: string, state: SwitchState, action: ManagedToolchain['action'], changes: string[] = []): ManagedToolchain {
  return {
    source: 'managed',
    key: state.key,
    dir,
    prefix: state.prefix,
    compiler: state.spec.compiler,
    versions: state.versions,
    env: withProcessPath(state.env),
    action,
    changes,
  };
}

/** The managed switch recorded in DIR when its key is `key` and it still exists; no opam call. */
export async function recordedSwitch(dir: string, key: string): Promise<ManagedToolchain | undefined> {
  const state = await readState(dir);
  return state && state.key === key && existsSync(state.prefix) ? toToolchain(dir, state, 'reused') : undefined;
}

const OPAM_INSTALL_HELP = 'Install opam with: apt-get install opam (Debian/Ubuntu), brew install opam (macOS), or see https://opam.ocaml.org/doc/Install.html';

function tail(text: string, lines = 25): string {
  const all = text.trim().split('\n');
  return (all.length > lines ? ['...', ...all.slice(-lines)] : all).map((l) => `  | ${l}`).join('\n');
}

/** Creates, updates or reuses the managed switch for `spec`. Serialized across processes by a lock on DIR. */
export async function ensureManagedSwitch(options: EnsureOptions): Promise<ManagedToolchain> {
  const { dir, spec } = options;
  const log = options.log ?? (() => undefined);
  const key = toolchainKey(spec);
  const recorded = await recordedSwitch(dir, key);
  if (recorded) return recorded;
  await mkdir(dir, { recursive: true });
  return withDirectoryLock(
    dir,
    'toolchain',
    async () => {
      const again = await recordedSwitch(dir, key);
      if (again) return again;
      return await installSwitch(dir, spec, key, log, options.showOpamOutput ?? false);
    },
    () => log(`nx-mirage: waiting for another process that is preparing the toolchain in ${dir}`),
  );
}

async function installSwitch(dir: string, spec: ToolchainSpec, key: string, log: (line: string) => void, show: boolean): Promise<ManagedToolchain> {
  const opam = await findOnPath('opam');
  if (!opam) {
    throw new ToolchainError(
      `\`opam\` was not found on PATH; nx-mirage needs it to create the managed toolchain in ${dir}.\n${OPAM_INSTALL_HELP}; then run the task again.\n` +
        'Or install mirage, dune and ocamlfind (and the solo5 toolchain) yourself and set "toolchain": { "mode": "path" } in the nx-mirage options of nx.json.',
    );
  }
  const root = join(dir, 'opam');
  const previous = await readState(dir);
  const switchName = switchNameFor(spec.compiler);
  const prefix = join(root, switchName);
  const env: Record<string, string | undefined> = { OPAMROOT: root, OPAMYES: '1', OPAMCOLOR: 'never', OPAMSWITCH: undefined, OPAM_SWITCH_PREFIX: undefined, OPAMNOENVNOTICE: '1' };
  // opam's output is shown while it works when `show`; `quiet` commands (machine-read output) never are.
  const run = async (args: string[], { quiet = false, extraEnv = {} }: { quiet?: boolean; extraEnv?: Record<string, string> } = {}) => {
    const r = await runCommand({ file: opam, args }, { cwd: dir, env: { ...env, ...extraEnv }, capture: show && !quiet ? 'tee' : true });
    return { ok: r.exitCode === 0, output: r.all, stdout: r.stdout };
  };

  const action: ManagedToolchain['action'] = previous && existsSync(previous.prefix) ? 'updated' : 'created';
  log(`nx-mirage: ${action === 'created' ? 'creating' : 'updating'} the managed OCaml toolchain (key ${key}) in ${dir}`);

  if (!existsSync(join(root, 'config'))) {
    const [first, ...more] = spec.repositories;
    if (!first) throw new ToolchainError('No opam repository is configured: set "toolchain": { "repositories": [{ "name": "default", "url": "https://opam.ocaml.org" }] } in nx.json.');
    // Only a directory nx-mirage creates is ever removed: one that holds anything else is not its to take.
    const entries = await readdir(root).catch(() => undefined);
    if (entries && entries.length > 0) {
      throw new ToolchainError(
        `${root} holds files and is not an opam root (it has no opam config), so nx-mirage does not make its toolchain there and leaves it alone. ` +
          'Move those files, or point the "toolchain.dir" option of nx.json (or NX_MIRAGE_TOOLCHAIN_DIR) at a directory of its own.',
      );
    }
    const r = await run(['init', '--root', root, '--bare', '--disable-sandboxing', '--no-setup', first.name, first.url]);
    if (!r.ok) {
      // The directory was missing or empty before init: what is there now is opam's half-made root.
      await rm(root, { recursive: true, force: true });
      throw unreachable(first, r.output);
    }
    await addRepositories(more, run);
  } else {
    const known = new Map((previous?.spec.repositories ?? []).map((x) => [x.name, x.url]));
    await addRepositories(
      spec.repositories.filter((x) => known.get(x.name) !== x.url),
      run,
      known,
    );
  }

  const switchExisted = existsSync(prefix);
  if (!switchExisted) {
    log(`nx-mirage: opam switch create ${switchName} ${spec.compiler}`);
    const r = await run(['switch', 'create', '--root', root, switchName, spec.compiler, '--no-switch']);
    if (!r.ok) {
      await run(['switch', 'remove', '--root', root, switchName]);
      throw new ToolchainError(
        `opam could not create the switch ${switchName} with the compiler ${spec.compiler} in ${root}:\n${tail(r.output)}\n` +
          `Check the "toolchain.compiler" option in nx.json (the repositories must provide ${compilerPackageName(spec.compiler)}), then run the task again.` +
          (previous ? ' The previous toolchain is unchanged and still in use.' : ''),
      );
    }
  }

  const before = previous?.switchName === switchName ? previous.versions : {};
  const opamFile = join(dir, 'nx-mirage-toolchain.opam');
  await writeFileAtomically(opamFile, renderToolchainOpamFile(spec));
  log(`nx-mirage: opam install --deps-only (${spec.packages.map((p) => p.name).join(', ')})`);
  const install = await run(['install', '--root', root, '--switch', switchName, '--deps-only', opamFile]);
  if (!install.ok) {
    throw new ToolchainError(
      `opam could not install the switch tools of the workspace (key ${key}) into ${prefix}:\n${tail(install.output)}\n` +
        `Fix the package named above (or the constraints in the unikernels' config.ml / opam files), then run the task again.` +
        (previous && existsSync(previous.prefix) ? ` The previous toolchain (key ${previous.key}) is unchanged and still in use.` : ''),
    );
  }

  const wanted = [...spec.packages.map((p) => p.name), compilerPackageName(spec.compiler), 'ocaml'];
  const list = await run(['list', '--root', root, '--switch', switchName, '--installed', '--columns=name,installed-version', '--short']);
  const versions = readInstalledVersions(list.stdout, wanted);
  const envOut = await run(['env', '--root', root, '--switch', switchName, '--set-root', '--set-switch', '--sexp'], { quiet: true, extraEnv: { PATH: PATH_PLACEHOLDER } });
  const switchEnv = readOpamEnvSexp(envOut.stdout);
  // dune reads a findlib toolchain from `<findlib.conf>.d/NAME.conf`: the switch's findlib.conf, where
  // ocaml-solo5 installs solo5.conf, whichever ocamlfind runs.
  const findlibConf = join(prefix, 'lib', 'findlib.conf');
  if (existsSync(findlibConf)) switchEnv['OCAMLFIND_CONF'] = findlibConf;
  const state: SwitchState = { key, spec, switchName, prefix, versions, env: switchEnv };
  await writeFileAtomically(join(dir, SWITCH_STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  if (previous && previous.switchName !== switchName && existsSync(previous.prefix)) {
    await run(['switch', 'remove', '--root', root, previous.switchName]);
  }
  const changes = Object.keys(versions)
    .filter((p) => before[p] !== versions[p])
    .map((p) => (before[p] ? `${p}: ${before[p]} -> ${versions[p]}` : `${p}: ${versions[p]}`));
  return toToolchain(dir, state, action, changes);
}

function unreachable(repo: OpamRepository, output: string): ToolchainError {
  return new ToolchainError(
    `opam could not reach the repository "${repo.name}" (${repo.url}):\n${tail(output)}\n` +
      'Check the URL in the "toolchain.repositories" option of nx.json and the network (a file:// repository must exist), then run the task again.',
  );
}

async function addRepositories(
  repos: readonly OpamRepository[],
  run: (args: string[]) => Promise<{ ok: boolean; output: string }>,
  known: Map<string, string> = new Map(),
): Promise<void> {
  for (const repo of repos) {
    const r = known.has(repo.name)
      ? await run(['repository', 'set-url', repo.name, repo.url, '--all-switches'])
      : await run(['repository', 'add', repo.name, repo.url, '--all-switches', '--set-default']);
    if (!r.ok) throw unreachable(repo, r.output);
  }
}
