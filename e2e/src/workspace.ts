/**
 * A real Nx 24 workspace in a temporary directory, with nx-mirage installed the way a user installs it: from
 * the tarball `npm pack` makes of the built package.
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
const pluginDir = join(repoRoot, 'packages', 'nx-mirage');

function rootVersion(pkg: string): string {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  return lock.packages[`node_modules/${pkg}`]!.version;
}

/** Packs the built plugin (run `nx build nx-mirage` first; the e2e target depends on it). */
export async function packPlugin(into: string): Promise<string> {
  const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', into], { cwd: pluginDir });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  if (!packed) throw new Error(`npm pack printed no tarball: ${stdout}`);
  return join(into, packed.filename);
}

export class E2EWorkspace {
  readonly root: string;
  private readonly base: string;

  private constructor(base: string) {
    this.base = base;
    this.root = join(base, 'ws');
    mkdirSync(this.root);
  }

  /** The packed nx-mirage this workspace installs (or `nx add`s). */
  tarball = '';

  /**
   * Creates the workspace: package.json with nx and @nx/devkit, and unless `withPlugin` is false the packed
   * nx-mirage, installed with npm; then a first commit.
   */
  static async create(nxJson: Record<string, unknown> = {}, withPlugin = true): Promise<E2EWorkspace> {
    const w = new E2EWorkspace(realpathSync(mkdtempSync(join(tmpdir(), 'nx-mirage-e2e-'))));
    const tarball = await packPlugin(w.base);
    w.tarball = tarball;
    w.writeJson('package.json', {
      name: 'e2e-ws',
      private: true,
      workspaces: ['apps/*'],
      devDependencies: {
        nx: rootVersion('nx'),
        '@nx/devkit': rootVersion('@nx/devkit'),
        ...(withPlugin ? { 'nx-mirage': `file:${tarball}` } : {}),
      },
    });
    w.writeJson('nx.json', nxJson);
    w.write('.gitignore', 'node_modules\n.nx\n');
    await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: w.root });
    await execa('git', ['init', '-q'], { cwd: w.root });
    await w.commit('initial');
    return w;
  }

  /** Commits everything, as a user's workspace would have at least one commit. */
  async commit(message: string): Promise<void> {
    const env = { GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid' };
    await execa('git', ['add', '-A'], { cwd: this.root });
    await execa('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: this.root, env });
  }

  write(relative: string, content: string): void {
    const path = join(this.root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }

  writeJson(relative: string, value: unknown): void {
    this.write(relative, JSON.stringify(value, null, 2) + '\n');
  }

  /** A git clone of this workspace (committed files only) with its npm dependencies installed. */
  async clone(): Promise<E2EWorkspace> {
    const w = new E2EWorkspace(realpathSync(mkdtempSync(join(tmpdir(), 'nx-mirage-e2e-clone-'))));
    rmSync(w.root, { recursive: true, force: true });
    await execa('git', ['clone', '-q', this.root, w.root]);
    await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: w.root });
    w.tarball = this.tarball;
    return w;
  }

  read(relative: string): string {
    return readFileSync(join(this.root, relative), 'utf8');
  }

  remove(relative: string): void {
    rmSync(join(this.root, relative), { recursive: true, force: true });
  }

  /** Runs the workspace's own nx on this Node, without daemon or cloud, and returns exit code and output. */
  async nx(args: string[], env: Record<string, string> = {}) {
    const result = await execa(process.execPath, [join(this.root, 'node_modules', '.bin', 'nx'), ...args], {
      cwd: this.root,
      reject: false,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'false', FORCE_COLOR: '0', CI: 'true', ...env },
      all: true,
    });
    return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout), all: String(result.all) };
  }

  /** The same, failing with nx's output when nx exits non-zero. */
  async nxOk(args: string[], env: Record<string, string> = {}) {
    const r = await this.nx(args, env);
    if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
    return r;
  }

  async nxJson<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse((await this.nxOk(args)).stdout) as T;
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}
