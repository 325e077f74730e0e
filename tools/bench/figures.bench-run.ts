/**
 * `npm run bench`: nx-mirage's performance figures, each a ratio of two commands measured side by side in
 * this run (median of BENCH_RUNS runs after a warm-up), printed as a table and written as raw numbers to
 * tools/bench/results.json. Uses the test stand-ins for mirage and the solo5 toolchain, real dune and Nx.
 */
import { it } from 'vitest';
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MIRAGE_STANDIN_BIN, createSolo5Toolchain } from '../../packages/nx-mirage/test/fixtures/standins/solo5-toolchain';
import { packPlugin, repoRoot } from '../../e2e/src/workspace';
import { writeLibrary, writeUnikernel } from './generate';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
/** BENCH_FIGURES=4 (or 2,3): measure only these figures (3 includes 3b, 2 its control and 2b). */
const only = process.env['BENCH_FIGURES']?.split(',').map((f) => f.trim());
const selected = (figure: string) => !only || only.includes(figure);
const N = 10;
const base = mkdtempSync(join(tmpdir(), 'nx-mirage-bench-'));
const toolchain = createSolo5Toolchain(join(base, 'toolchain'));
const env: Record<string, string> = {
  ...toolchain.env,
  PATH: [MIRAGE_STANDIN_BIN, toolchain.env['PATH']].join(':'),
  XDG_CACHE_HOME: join(base, 'dune-cache'),
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  CI: 'true',
  FORCE_COLOR: '0',
};

interface Figure {
  figure: string;
  a: { label: string; ms: number[] };
  b: { label: string; ms: number[] };
  ratio: number;
  target: string;
  pass: boolean;
}
const figures: Figure[] = [];

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

async function sh(cwd: string, file: string, args: string[], extra: Record<string, string> = {}) {
  const r = await execa(file, args, { cwd, env: { ...env, ...extra }, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${r.all}`);
}

/** Warm-up, then RUNS timed runs, each after `prepare` (not timed). */
async function measure(prepare: () => void | Promise<void>, run: () => Promise<unknown>, runs = RUNS): Promise<number[]> {
  await prepare();
  await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    await prepare();
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return ms;
}

function record(figure: string, a: Figure['a'], b: Figure['b'], target: string, check: (ratio: number) => boolean) {
  const ratio = median(a.ms) / median(b.ms);
  figures.push({ figure, a, b, ratio, target, pass: check(ratio) });
}

async function nxWorkspace(dir: string, tarball: string, extraDeps: Record<string, string> = {}, nxJson: object = {}) {
  mkdirSync(dir, { recursive: true });
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'bench',
      private: true,
      devDependencies: { nx: lock.packages['node_modules/nx']!.version, '@nx/devkit': lock.packages['node_modules/@nx/devkit']!.version, 'nx-mirage': `file:${tarball}`, ...extraDeps },
    }),
  );
  writeFileSync(join(dir, 'nx.json'), JSON.stringify(nxJson));
  // As the unikernel generator's .gitignore does: generated files and artifacts are not sources (and the Nx
  // daemon does not recompute the graph for them).
  writeFileSync(join(dir, '.gitignore'), 'node_modules\n.nx\n_build\ndist/\n/unikernels/*/dune\n/unikernels/*/dune.build\n/unikernels/*/dune.config\n/unikernels/*/mirage/\n');
  await sh(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
  await sh(dir, 'git', ['init', '-q']);
}

async function commit(dir: string) {
  await sh(dir, 'git', ['add', '-A']);
  await sh(dir, 'git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-qm', 'bench']);
}

const nxBin = (dir: string) => join(dir, 'node_modules', '.bin', 'nx');
const nx = (dir: string, args: string[], extra: Record<string, string> = {}) => sh(dir, process.execPath, [nxBin(dir), ...args], { NX_DAEMON: 'false', ...extra });

it('measures the figures', async () => {
  const tarball = await packPlugin(base);

  // One Nx workspace with the shared library and N hvt unikernels; and N separate dune roots, the mirage way.
  const ws = join(base, 'nx');
  await nxWorkspace(ws, tarball, {}, { plugins: [{ plugin: 'nx-mirage', options: { monorepo: false } }] });
  writeLibrary(ws);
  for (let i = 0; i < N; i++) {
    writeUnikernel(ws, `unikernels/uk${i}`, `uk${i}`);
    // The no-op twin of configure → build, for the cache-hit figure.
    writeFileSync(
      join(ws, `unikernels/uk${i}/project.json`),
      JSON.stringify({ name: `uk${i}`, targets: { 'nop-pre': { command: 'true', cache: true }, nop: { command: 'true', cache: true, dependsOn: ['nop-pre'] } } }),
    );
  }
  await nx(ws, ['sync']);
  await commit(ws);
  const separate = Array.from({ length: N }, (_, i) => join(base, `mirage-way/uk${i}`));
  for (const [i, dir] of separate.entries()) {
    writeLibrary(dir);
    writeUnikernel(dir, `uk${i}`, `uk${i}`);
  }
  const cleanNx = () => {
    rmSync(join(ws, '_build'), { recursive: true, force: true });
    rmSync(env['XDG_CACHE_HOME']!, { recursive: true, force: true });
  };
  const noDuneCache = { DUNE_CACHE: 'disabled' };

  if (selected('1')) {
    // 1. Many unikernels: the mirage way (configure and make build per unikernel, each its own dune root) vs
    //    nx run-many with nx-mirage (one dune root, batch build), both from clean, no Nx cache.
    const mirageWay = await measure(
      () => separate.forEach((d) => rmSync(join(d, '_build'), { recursive: true, force: true })),
      async () => {
        for (const [i, dir] of separate.entries()) {
          await sh(dir, 'mirage', ['configure', '-f', `uk${i}/config.ml`, '-t', 'hvt'], noDuneCache);
          await sh(dir, 'dune', ['build', '--profile', 'release', '--root', '.', `uk${i}/dist`], noDuneCache);
        }
      },
    );
    const nxWay = await measure(cleanNx, () => nx(ws, ['run-many', '-t', 'build', '--skip-nx-cache']));
    record(`1. ${N} unikernels sharing a library`, { label: 'mirage way (configure + make build each)', ms: mirageWay }, { label: 'nx run-many -t build', ms: nxWay }, '>= 5x', (r) => r >= 5);
  }

  if (selected('2')) {
    // 2. Overhead of nx build over the dune command it runs, one unikernel, no Nx cache, no dune cache.
    const overheadNx = await measure(
      () => rmSync(join(ws, '_build'), { recursive: true, force: true }),
      () => nx(ws, ['build', 'uk0', '--skip-nx-cache', '--excludeTaskDependencies'], noDuneCache),
    );
    const overheadDune = await measure(
      () => rmSync(join(ws, '_build'), { recursive: true, force: true }),
      () => sh(ws, 'dune', ['build', '--profile', 'release', '--root', '.', '_build/solo5/unikernels/uk0/uk0.hvt'], noDuneCache),
    );
    record('2. nx build overhead (one unikernel, cache off)', { label: 'nx build uk0', ms: overheadNx }, { label: 'dune build (same target)', ms: overheadDune }, '<= 1.10x', (r) => r <= 1.1);
    // What any Nx task costs here, whatever its executor: the floor under figure 2 (a no-op command task).
    const nxFloor = await measure(() => undefined, () => nx(ws, ['run', 'uk0:nop-pre', '--skip-nx-cache']));
    record('2. (control) Nx floor: a no-op task', { label: 'nx run uk0:nop-pre (true)', ms: nxFloor }, { label: 'dune build (same target)', ms: overheadDune }, 'report', () => true);
    // The same as figure 2 with the Nx daemon on (the default outside CI): the project graph comes from it.
    const withDaemon = { NX_DAEMON: 'true', CI: 'false' };
    const overheadDaemon = await measure(
      () => rmSync(join(ws, '_build'), { recursive: true, force: true }),
      () => nx(ws, ['build', 'uk0', '--skip-nx-cache', '--excludeTaskDependencies'], { ...noDuneCache, ...withDaemon }),
    );
    await nx(ws, ['daemon', '--stop'], withDaemon).catch(() => undefined);
    record('2b. nx build overhead, Nx daemon on', { label: 'nx build uk0 (daemon)', ms: overheadDaemon }, { label: 'dune build (same target)', ms: overheadDune }, '<= 1.10x', (r) => r <= 1.1);
  }

  if (selected('3')) {
    // 3. Everything cached: nx-mirage builds vs the same number of no-op cached tasks.
    await nx(ws, ['run-many', '-t', 'build']);
    await nx(ws, ['run-many', '-t', 'nop']);
    const cachedBuild = await measure(() => undefined, () => nx(ws, ['run-many', '-t', 'build']));
    const cachedNop = await measure(() => undefined, () => nx(ws, ['run-many', '-t', 'nop']));
    record(`3. full cache hit, ${N} unikernels`, { label: 'nx run-many -t build (all cached)', ms: cachedBuild }, { label: 'nx run-many -t nop (all cached)', ms: cachedNop }, '<= 1.5x', (r) => r <= 1.5);
    // 3b. The same with toolchain mode "auto" (what `nx add nx-mirage` writes), tools on PATH: each run also
    //     runs the non-cacheable toolchain tasks (one batch) before the cached builds.
    const nxJsonPath = join(ws, 'nx.json');
    const nxJsonBefore = readFileSync(nxJsonPath, 'utf8');
    writeFileSync(nxJsonPath, JSON.stringify({ plugins: [{ plugin: 'nx-mirage', options: { monorepo: false, toolchain: { mode: 'auto' } } }] }));
    await nx(ws, ['run-many', '-t', 'build']);
    const cachedAuto = await measure(() => undefined, () => nx(ws, ['run-many', '-t', 'build']));
    writeFileSync(nxJsonPath, nxJsonBefore);
    record(`3b. full cache hit, ${N} unikernels, toolchain mode auto`, { label: 'nx run-many -t build (all cached, auto)', ms: cachedAuto }, { label: 'nx run-many -t nop (all cached)', ms: cachedNop }, '<= 1.5x', (r) => r <= 1.5);
  }

  if (selected('5')) {
    // 5. dune's cache: a clean rebuild (rm -rf _build) with nx-mirage's default dune cache vs without.
    const duneTargets = Array.from({ length: N }, (_, i) => `_build/solo5/unikernels/uk${i}/uk${i}.hvt`);
    const withCache = { DUNE_CACHE: 'enabled', DUNE_CACHE_TRANSPORT: 'direct' };
    await sh(ws, 'dune', ['build', '--profile', 'release', '--root', '.', ...duneTargets], withCache);
    const rebuildCached = await measure(
      () => rmSync(join(ws, '_build'), { recursive: true, force: true }),
      () => sh(ws, 'dune', ['build', '--profile', 'release', '--root', '.', ...duneTargets], withCache),
    );
    const rebuildUncached = await measure(
      () => rmSync(join(ws, '_build'), { recursive: true, force: true }),
      () => sh(ws, 'dune', ['build', '--profile', 'release', '--root', '.', ...duneTargets], noDuneCache),
    );
    record('5. clean rebuild with dune cache', { label: 'without dune cache', ms: rebuildUncached }, { label: "with nx-mirage's dune cache", ms: rebuildCached }, 'report', () => true);
  }

  if (selected('4')) {
    // 4. Inference at scale: 1,000 unikernels vs 1,000 vite.config.ts projects under @nx/vite.
    const P = Number(process.env['BENCH_PROJECTS'] ?? 1000);
    const mirageInf = join(base, 'inference-mirage');
    await nxWorkspace(mirageInf, tarball, {}, { plugins: ['nx-mirage'] });
    const viteInf = join(base, 'inference-vite');
    await nxWorkspace(viteInf, tarball, { '@nx/vite': '23.2.1', vite: '^7.1.0' }, { plugins: ['@nx/vite/plugin'] });
    for (let i = 0; i < P; i++) {
      writeUnikernel(mirageInf, `apps/u${i}`, `u${i}`);
      mkdirSync(join(viteInf, `apps/v${i}`), { recursive: true });
      writeFileSync(join(viteInf, `apps/v${i}/vite.config.ts`), "import { defineConfig } from 'vite';\nexport default defineConfig({ build: { outDir: 'dist' } });\n");
      // A Vite app has its index.html: without it @nx/vite infers no build, serve or preview target at all.
      writeFileSync(join(viteInf, `apps/v${i}/index.html`), '<!doctype html>\n<html><body><script type="module" src="/src/main.ts"></script></body></html>\n');
      writeFileSync(join(viteInf, `apps/v${i}/project.json`), JSON.stringify({ name: `v${i}` }));
    }
    await commit(mirageInf);
    await commit(viteInf);
    const cold = { NX_DAEMON: 'false', NX_CACHE_PROJECT_GRAPH: 'false' };
    const coldMirage = await measure(() => rmSync(join(mirageInf, '.nx'), { recursive: true, force: true }), () => nx(mirageInf, ['show', 'projects'], cold));
    const coldVite = await measure(() => rmSync(join(viteInf, '.nx'), { recursive: true, force: true }), () => nx(viteInf, ['show', 'projects'], cold));
    record(`4a. inference, ${P} projects, cold`, { label: 'nx-mirage (config.ml)', ms: coldMirage }, { label: '@nx/vite 23.2.1 (vite.config.ts)', ms: coldVite }, '<= 1.0x', (r) => r <= 1.0);
    const daemon = { NX_DAEMON: 'true', CI: 'false' };
    const warmMirage = await measure(() => undefined, () => nx(mirageInf, ['show', 'projects'], daemon));
    const warmVite = await measure(() => undefined, () => nx(viteInf, ['show', 'projects'], daemon));
    await nx(mirageInf, ['daemon', '--stop'], daemon).catch(() => undefined);
    await nx(viteInf, ['daemon', '--stop'], daemon).catch(() => undefined);
    record(`4b. inference, ${P} projects, warm (daemon)`, { label: 'nx-mirage', ms: warmMirage }, { label: '@nx/vite', ms: warmVite }, `mirage <= 150 ms (${Math.round(median(warmMirage))} ms)`, () => median(warmMirage) <= 150);
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
  const rows = figures.map((f) => [f.figure, `${f.ratio.toFixed(2)}x`, f.target, f.pass ? 'pass' : 'MISS', `${Math.round(median(f.a.ms))} ms vs ${Math.round(median(f.b.ms))} ms`]);
  const header = ['figure', 'ratio', 'target', 'result', 'medians (a vs b)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log([`nx-mirage benchmark (${RUNS} runs after a warm-up, medians; ${machine})`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  writeFileSync(join(repoRoot, 'tools', 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, figures }, null, 2) + '\n');
  cpSync(join(repoRoot, 'tools', 'bench', 'results.json'), join(base, 'results.json'));
  if (!process.env['BENCH_KEEP']) rmSync(base, { recursive: true, force: true });
});
