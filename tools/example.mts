/**
 * `npm run example`: builds the example workspace (examples/) end to end, as a user of nx-mirage would: the
 * plugin packed and installed from its tarball, `nx run-many -t build`, then where the artifacts are, their
 * ABI and size.
 *
 * Toolchain: whatever is available. The example's nx.json has `"toolchain": { "mode": "auto" }` (what
 * `nx add nx-mirage` writes): the tools on PATH when they are all there, else the opam switch nx-mirage
 * manages in examples/.nx-mirage/toolchain. With NX_MIRAGE_STANDIN=1 (machines without Solo5 or network), the
 * managed switch is made from nx-mirage's TEST STAND-INS instead: a local file:// opam repository whose
 * mirage, solo5, ocaml-solo5 and opam-monorepo packages are the stand-ins of the test fixtures.
 */
import { execa } from 'execa';
import fg from 'fast-glob';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createStandinRepository } from '../packages/nx-mirage/test/fixtures/standins/offline-opam.js';

const repoRoot = resolve(import.meta.dirname, '..');
const example = join(repoRoot, 'examples');
const standin = process.env['NX_MIRAGE_STANDIN'] === '1';

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function step(title: string, file: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}, hint = ''): Promise<void> {
  say(`\n==> ${title}`);
  const r = await execa(file, args, { cwd, env, stdio: 'inherit', reject: false });
  if (r.exitCode !== 0) {
    say(`\nnpm run example: "${[file, ...args].join(' ')}" failed (exit ${r.exitCode}); its output above says why.${hint}`);
    process.exit(r.exitCode ?? 1);
  }
}

/** The environment that makes the managed switch come from the stand-in repository. */
function standinEnv(): Record<string, string> {
  const dir = join(example, '.nx-mirage', 'standins');
  if (!existsSync(join(dir, 'repo', 'repo'))) {
    rmSync(dir, { recursive: true, force: true });
    createStandinRepository(dir);
  }
  const sources = join(dir, 'sources');
  if (!existsSync(sources)) cpSync(join(repoRoot, 'packages', 'nx-mirage', 'test', 'fixtures', 'standins', 'universe'), sources, { recursive: true });
  return {
    NX_MIRAGE_OPAM_REPOSITORY: `file://${join(dir, 'repo')}`,
    NX_MIRAGE_OPAM_COMPILER: 'ocaml-system',
    OPAM_MONOREPO_STANDIN_SOURCES: sources,
    SOLO5_WRAPPER_LOG: join(dir, 'solo5-wrapper.log'),
  };
}

/**
 * Whether `tool` is on PATH. The plugin's `onPath` (adapters/toolchain.ts) cannot be imported here: under tsx
 * it loads as CommonJS and requires execa, which is ESM only.
 */
function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => {
    try {
      accessSync(join(dir || '.', tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Stops with the commands that get a toolchain when there is neither one on PATH nor opam to make one. */
async function requireSomeToolchain(): Promise<void> {
  if (standin || onPath('mirage') || onPath('opam')) return;
  say(
    [
      'npm run example: no OCaml toolchain for MirageOS on PATH (no `mirage`), and no `opam` for nx-mirage to create one.',
      'Get one of these, then run `npm run example` again:',
      '  sudo apt-get install opam          # Debian/Ubuntu (macOS: brew install opam); nx-mirage then creates the',
      '                                     # toolchain itself in examples/.nx-mirage/toolchain (network needed)',
      "  opam init && opam install 'mirage>=4.11.0' ocaml-solo5 solo5 opam-monorepo && eval $(opam env)",
      '                                     # or your own opam switch, used as it is',
      '  NX_MIRAGE_STANDIN=1 npm run example   # or the test stand-ins, on a machine without Solo5 or network',
    ].join('\n'),
  );
  process.exit(1);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

interface Manifest {
  unikernel: string;
  target: string;
  artifact: string;
  abi: { kind: string; target?: string; version?: number; backend?: string };
  devices: Array<{ name: string; type: string }>;
  size: number;
  sha256: string;
}

function abiText(abi: Manifest['abi']): string {
  if (abi.kind === 'solo5') return `Solo5 ${abi.target} ABI v${abi.version ?? '?'}`;
  if (abi.kind === 'unikraft') return `Unikraft (${abi.backend})`;
  return 'host executable';
}

async function report(): Promise<void> {
  say('\n==> Artifacts');
  const manifests = await fg('unikernels/*/dist/*.manifest.json', { cwd: example });
  for (const file of manifests.sort()) {
    const m = JSON.parse(readFileSync(join(example, file), 'utf8')) as Manifest;
    const artifact = join(example, file.replace(/\.manifest\.json$/, ''));
    const devices = m.devices.length ? m.devices.map((d) => `${d.name} (${d.type})`).join(', ') : 'no devices';
    say(`  ${relative(process.cwd(), artifact)}`);
    say(`      ${m.unikernel}: ${abiText(m.abi)}, ${kib(m.size)}, ${devices}, sha256 ${m.sha256.slice(0, 12)}`);
  }
  const web = join(example, 'apps', 'web', 'dist', 'index.html');
  if (existsSync(web)) say(`  ${relative(process.cwd(), web)}\n      web: static site, ${kib(statSync(web).size)}`);
  if (manifests.length === 0) say('  (no unikernel artifacts)');
}

async function main(): Promise<void> {
  await requireSomeToolchain();
  // The e2e test of this script runs inside `nx run-many` of this repository, after the plugin's build.
  if (process.env['NX_MIRAGE_EXAMPLE_PLUGIN_BUILT'] !== '1') {
    await step('Build nx-mirage', join(repoRoot, 'node_modules', '.bin', 'nx'), ['run', 'nx-mirage:build', '--outputStyle=stream'], repoRoot);
  }
  const pack = join(example, '.pack');
  rmSync(pack, { recursive: true, force: true });
  mkdirSync(pack);
  await step('Pack it, as it is published', 'npm', ['pack', '--silent', '--pack-destination', pack], join(repoRoot, 'packages', 'nx-mirage'));
  const [tarball] = await fg('nx-mirage-*.tgz', { cwd: pack });
  renameSync(join(pack, tarball!), join(pack, 'nx-mirage.tgz'));
  await step('Install the example workspace', 'npm', ['install', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], example);

  // examples/ is a workspace of its own: nothing of an Nx run this script may be part of (its workspace root,
  // task hash, output settings) reaches the example's nx.
  const outerNx = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('NX_') && !k.startsWith('NX_MIRAGE_')).map((k) => [k, undefined]));
  const env: Record<string, string | undefined> = { ...outerNx, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', ...(standin ? standinEnv() : {}) };
  // The site unikernel needs a real TCP/IP stack and key-value store (tcpip, mirage-kv from opam-monorepo);
  // the stand-ins provide none of those, so with them it is configured but not compiled.
  const exclude = standin ? ['--exclude=site'] : [];
  if (standin) {
    say('\nNX_MIRAGE_STANDIN=1: the managed toolchain comes from the TEST STAND-INS (mirage, solo5, ocaml-solo5, opam-monorepo).');
    say('The site unikernel needs tcpip and mirage-kv, which the stand-ins cannot provide: it is configured, not compiled.');
  }
  const nx = join(example, 'node_modules', '.bin', 'nx');
  await step('nx run-many -t build test (the web app, the OCaml library, the unikernels)', nx, ['run-many', '-t', 'build', 'test', ...exclude, '--outputStyle=stream'], example, env, standin
    ? ''
    : '\nWithout network or Solo5, the test stand-ins show the same run: NX_MIRAGE_STANDIN=1 npm run example');
  await report();
  say('\nRun one: cd examples && npx nx run hello:run   (needs solo5-hvt and /dev/kvm for hvt)');
}

main().catch((e: unknown) => {
  say(`npm run example: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
