/**
 * From an empty Nx 24 workspace to built unikernels beside a web app: nx add, nx g, nx build, the caches
 * (local and a self-hosted remote one on loopback), nx affected and nx run-many.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2EWorkspace } from './workspace';
import { standinEnv, type StandinEnv } from './standins';

let ws: E2EWorkspace;
let clone: E2EWorkspace | undefined;
let tools: StandinEnv;
let toolsDir: string;

const nx = async (w: E2EWorkspace, args: string[], extra: Record<string, string> = {}) => (await w.nxOk(args, { ...tools.env, ...extra })).all;

const sha = (w: E2EWorkspace, rel: string) => createHash('sha256').update(readFileSync(join(w.root, rel))).digest('hex');

beforeAll(async () => {
  toolsDir = mkdtempSync(join(tmpdir(), 'nx-mirage-e2e-tools-'));
  tools = standinEnv(toolsDir, true);
  ws = await E2EWorkspace.create({}, false);
  ws.writeJson('apps/web/package.json', {
    name: 'web',
    version: '1.0.0',
    scripts: { build: 'node build.js' },
    nx: { targets: { build: { outputs: ['{projectRoot}/dist'] } } },
  });
  ws.write('apps/web/build.js', "const fs=require('fs');fs.mkdirSync('dist',{recursive:true});fs.writeFileSync('dist/index.html','<h1>web</h1>\\n');\n");
  ws.write('.gitignore', 'node_modules\n.nx\ndist\n');
  await ws.commit('web app');
});

afterAll(() => {
  ws?.cleanup();
  clone?.cleanup();
  if (toolsDir) rmSync(toolsDir, { recursive: true, force: true });
});

describe('getting started', () => {
  it('nx add nx-mirage installs the packed plugin and initializes the workspace', async () => {
    await nx(ws, ['add', `nx-mirage@file:${ws.tarball}`]);
    const nxJson = JSON.parse(ws.read('nx.json'));
    expect(nxJson.plugins).toContainEqual(expect.objectContaining({ plugin: 'nx-mirage' }));
    expect(nxJson.sync).toEqual({ applyChanges: true });
    expect(ws.read('dune-project')).toContain('Managed by nx-mirage');
    expect(ws.read('.gitignore')).toContain('_build/');
    expect(JSON.parse(ws.read('package.json')).devDependencies['nx-mirage']).toMatch(/^file:.*nx-mirage-\d+\.\d+\.\d+\.tgz$/);
    // init is idempotent.
    const before = ws.read('nx.json');
    await nx(ws, ['g', 'nx-mirage:init']);
    expect(ws.read('nx.json')).toBe(before);
  });

  it('nx g nx-mirage:unikernel generates each template, and nx show project lists the inferred targets', async () => {
    await nx(ws, ['g', 'nx-mirage:unikernel', 'hello']);
    await nx(ws, ['g', 'nx-mirage:unikernel', 'hi', '--target=unix']);
    await nx(ws, ['g', 'nx-mirage:unikernel', 'echo', '--template=network', '--port=7']);
    await nx(ws, ['g', 'nx-mirage:unikernel', 'site', '--template=website', '--serve=web']);
    await nx(ws, ['g', 'nx-mirage:library', 'greeter', '--unikernel=hi']);
    for (const f of ['apps/hello/config.ml', 'apps/hello/unikernel.ml', 'apps/echo/unikernel.ml', 'apps/site/config.ml', 'libs/greeter/dune']) {
      expect(existsSync(join(ws.root, f)), f).toBe(true);
    }
    expect(ws.read('apps/site/config.ml')).toContain('generic_kv_ro "../web/dist"');
    expect(ws.read('apps/hi/config.ml')).toContain('~local_libs:[ "greeter" ]');
    const projects = (await nx(ws, ['show', 'projects'])).split('\n');
    expect(projects).toEqual(expect.arrayContaining(['hello', 'hi', 'echo', 'site', 'web']));
    expect(projects).toContain('@nx-mirage');
    // A unikernel has its own targets; the dune root project the workspace-wide ones.
    const hello = JSON.parse(await ws.nx(['show', 'project', 'hello', '--json'], tools.env).then((r) => r.stdout));
    expect(Object.keys(hello.targets).sort()).toEqual(['build', 'clean', 'configure', 'locked-versions', 'run', 'serve', 'verify']);
    expect(hello.targets.build.executor).toBe('nx-mirage:build');
    const root = JSON.parse(await ws.nx(['show', 'project', '@nx-mirage', '--json'], tools.env).then((r) => r.stdout));
    expect(Object.keys(root.targets).sort()).toEqual(['depends', 'install-switch', 'lock', 'pull', 'toolchain']);
    const site = JSON.parse(await ws.nx(['show', 'project', 'site', '--json'], tools.env).then((r) => r.stdout));
    expect(site.implicitDependencies).toEqual(['web']);
    await ws.commit('unikernels');
  });

  it('nx build hello locks, pulls and builds dist/hello.hvt with its manifest', async () => {
    const out = await nx(ws, ['build', 'hello']);
    // pull configures and locks what is not current itself: no lock task of its own in a build.
    expect(out).toContain('nx run @nx-mirage:pull');
    expect(out).not.toContain('nx run @nx-mirage:lock');
    expect(existsSync(join(ws.root, 'duniverse/mirage-sleep/mirage_sleep.ml'))).toBe(true);
    expect(ws.read('mirage.opam.locked')).toMatch(/^x-nx-mirage-locked-from: "[0-9a-f]{64}"$/m);
    const manifest = JSON.parse(ws.read('apps/hello/dist/hello.hvt.manifest.json'));
    expect(manifest).toMatchObject({ unikernel: 'hello', target: 'hvt', abi: { kind: 'solo5', target: 'hvt', version: 2 } });
    expect(manifest.sha256).toBe(sha(ws, 'apps/hello/dist/hello.hvt'));
  });

  it('a second build is a cache hit that restores the artifact bit-identical; editing unikernel.ml is a miss', async () => {
    const hvt = sha(ws, 'apps/hello/dist/hello.hvt');
    const builds = tools.duneBuilds().length;
    ws.remove('apps/hello/dist/hello.hvt');
    const hit = await nx(ws, ['build', 'hello']);
    expect(hit).toMatch(/nx run hello:build\s+\[local cache\]/);
    expect(sha(ws, 'apps/hello/dist/hello.hvt')).toBe(hvt);
    expect(tools.duneBuilds()).toHaveLength(builds);

    ws.write('apps/hello/unikernel.ml', ws.read('apps/hello/unikernel.ml').replace('loop 4', 'loop 2'));
    const miss = await nx(ws, ['build', 'hello']);
    expect(miss).not.toMatch(/nx run hello:build\s+\[local cache\]/);
    // Nothing lock and pull read changed since the run before: their stamp holds, so they are cache hits and start no process.
    expect(miss).toMatch(/nx run @nx-mirage:pull\s+\[(local cache|existing outputs match the cache, left as is)\]/);
    expect(tools.duneBuilds()).toHaveLength(builds + 1);
    expect(sha(ws, 'apps/hello/dist/hello.hvt')).not.toBe(hvt);
    await ws.commit('hello loops twice');
  });

  it('nx run-many builds the web app and two unikernels, hvt and unix, in one dune call, and the unix one runs', async () => {
    ws.write('apps/hello/unikernel.ml', ws.read('apps/hello/unikernel.ml').replace('loop 2', 'loop 3'));
    const builds = tools.duneBuilds().length;
    const out = await nx(ws, ['run-many', '-t', 'build', '-p', 'web', 'hello', 'hi']);
    expect(out).toContain('Successfully ran target build for 3 projects');
    // The default configuration batches: one dune build names the greeter library hi uses and both unikernels.
    const ocamlBuilds = tools.duneBuilds().slice(builds).filter((b) => b.includes('apps/hello/') || b.includes('apps/hi/') || b.includes('libs/greeter'));
    expect(ocamlBuilds).toEqual([expect.stringContaining('@@_build/default/libs/greeter/default')]);
    expect(ocamlBuilds[0]).toContain('_build/solo5/apps/hello/hello.hvt');
    expect(ocamlBuilds[0]).toContain('_build/default/apps/hi/hi');
    expect(existsSync(join(ws.root, 'apps/web/dist/index.html'))).toBe(true);
    // The generated hello template, linked for unix, logs four times a second apart.
    const run = spawnSync(join(ws.root, 'apps/hi/dist/hi'), { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(`${run.stdout}${run.stderr}`.match(/hello from hi/g)).toHaveLength(4);
  });

  it('editing a web app file leaves nx affected -t build without the unikernels that do not serve it', async () => {
    await ws.commit('built');
    ws.write('apps/web/build.js', ws.read('apps/web/build.js') + '// edited\n');
    const affected = (await nx(ws, ['show', 'projects', '--affected', '--base=HEAD', '--with-target=build'])).split('\n').filter(Boolean).sort();
    expect(affected).toEqual(['site', 'web']);
    await ws.commit('web edited');
  });

  it('a second clone gets the unikernel from a self-hosted remote cache, bit-identical, without running dune', async () => {
    const store = new Map<string, Buffer>();
    const server: Server = createServer((req, res) => {
      const hash = /^\/v1\/cache\/([^/]+)$/.exec(req.url ?? '')?.[1];
      if (!hash) return void res.writeHead(404).end();
      if (req.method === 'GET') {
        const body = store.get(hash);
        return void (body ? res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body) : res.writeHead(404).end());
      }
      if (req.method === 'PUT') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (store.has(hash)) return void res.writeHead(409).end();
          store.set(hash, Buffer.concat(chunks));
          res.writeHead(200).end();
        });
        return;
      }
      res.writeHead(405).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address() as { port: number };
      const remote = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: `http://127.0.0.1:${address.port}` };
      // The first clone builds with an empty local cache, so the results go to the remote cache too.
      await nx(ws, ['build', 'hello'], { ...remote, NX_CACHE_DIRECTORY: join(ws.root, '.nx', 'fresh-cache') });
      expect(store.size).toBeGreaterThan(0);
      const original = sha(ws, 'apps/hello/dist/hello.hvt');

      clone = await ws.clone();
      expect(existsSync(join(clone.root, 'apps/hello/dist'))).toBe(false);
      const builds = tools.duneBuilds().length;
      const out = await nx(clone, ['build', 'hello'], { ...remote, NX_CACHE_DIRECTORY: join(clone.root, '.nx', 'own-cache') });
      expect(out).toMatch(/nx run hello:build\s+\[remote cache\]/);
      expect(tools.duneBuilds()).toHaveLength(builds);
      expect(sha(clone, 'apps/hello/dist/hello.hvt')).toBe(original);
      expect(clone.read('apps/hello/dist/hello.hvt.manifest.json')).toBe(ws.read('apps/hello/dist/hello.hvt.manifest.json'));
    } finally {
      server.close();
    }
  });
});
