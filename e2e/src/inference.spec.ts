import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2EWorkspace } from './workspace';

interface ProjectJson {
  name: string;
  root: string;
  tags: string[];
  targets: Record<string, { executor: string; dependsOn?: string[]; cache?: boolean; options?: Record<string, unknown>; configurations?: Record<string, unknown>; continuous?: boolean }>;
}

const unikernel = (name: string, extra = '') => `(* mirage >= 4.9.0 & < 4.12.0 *)
open Mirage
${extra}
let main = main "Unikernel.Hello" (time @-> job) ~packages:[ package "duration" ]
let () = register "${name}" [ main $ default_time ]
`;

let ws: E2EWorkspace;

beforeAll(async () => {
  ws = await E2EWorkspace.create({
    plugins: [{ plugin: 'nx-mirage', options: { unikernels: { 'site.v2': { target: 'unix' }, storage: { target: 'xen' } } } }],
  });
  ws.write('unikernels/hello/config.ml', unikernel('hello'));
  ws.write('unikernels/hello/unikernel.ml', 'let start () = Lwt.return_unit\n');
  ws.write('unikernels/site/config.ml', unikernel('site.v2', 'let data = crunch "../../apps/web/dist"'));
  ws.write('services/storage/config.ml', unikernel('storage'));
  ws.write('tools/gen/config.ml', 'let () = print_endline "not a unikernel"\n');
  ws.write('unikernels/broken/config.ml', 'open Mirage\nlet () = register "broken" [ main ]\n(* never closed\n');
  ws.write('_build/default/unikernels/hello/config.ml', unikernel('hello'));
  ws.write('unikernels/hello/duniverse/x/config.ml', unikernel('vendored'));
  ws.writeJson('apps/web/package.json', { name: 'web', version: '1.0.0', scripts: { build: 'node build.js' } });
  ws.write('apps/web/build.js', "require('fs').mkdirSync('dist',{recursive:true});\n");
});

afterAll(() => ws?.cleanup());

describe('inference in a real Nx 24 workspace', () => {
  it('nx show projects lists every unikernel beside the web app, and warns about the broken one', async () => {
    const r = await ws.nx(['show', 'projects']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['@nx-mirage', 'hello', 'site.v2', 'storage', 'web']);
    expect(r.all).toContain('nx-mirage: unikernels/broken/config.ml:3 is not used as a MirageOS unikernel: unterminated comment starting on line 3.');
  });

  it('nx show project shows the inferred targets with executors, dependencies and configurations', async () => {
    const hello = await ws.nxJson<ProjectJson>(['show', 'project', 'hello', '--json']);
    expect(hello.root).toBe('unikernels/hello');
    expect(hello.tags).toEqual(expect.arrayContaining(['mirage', 'mirage:solo5', 'mirage:target:hvt']));
    expect(Object.keys(hello.targets).sort()).toEqual(['build', 'clean', 'configure', 'locked-versions', 'run', 'serve', 'verify']);
    expect(hello.targets['configure']!.executor).toBe('nx-mirage:configure');
    expect(hello.targets['build']!.executor).toBe('nx-mirage:build');
    // No configure task: the build configures what is stale itself, so every build of a run is ready at once.
    expect(hello.targets['build']!.dependsOn).toEqual([{ projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }, 'locked-versions', '^build']);
    expect(hello.targets['build']!.options).toEqual({ name: 'hello', target: 'hvt', artifact: 'hello.hvt' });
    expect(Object.keys(hello.targets['build']!.configurations ?? {})).toEqual(expect.arrayContaining(['unix', 'hvt', 'spt', 'xen', 'unikraft-qemu']));
    expect(hello.targets['run']!.continuous).toBe(true);
    const root = await ws.nxJson<ProjectJson>(['show', 'project', '@nx-mirage', '--json']);
    expect(root.root).toBe('.nx-mirage');
    expect(Object.keys(root.targets).sort()).toEqual(['depends', 'install-switch', 'lock', 'pull', 'toolchain']);
    expect(root.targets['install-switch']!.cache).toBe(false);
    expect(root.targets['lock']!.options).toEqual({ duneRoot: '.', scope: 'workspace', unikernels: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // lock and pull are cached under the dependencies stamp (a runtime input), keyed by the unikernels.
    expect(root.targets['pull']!.cache).toBe(true);
    expect(root.targets['lock']!.cache).toBe(true);

    const site = await ws.nxJson<ProjectJson>(['show', 'project', 'site.v2', '--json']);
    expect(site.targets['build']!.options).toEqual({ name: 'site.v2', target: 'unix', artifact: 'site.v2' });
    expect(site.tags).toContain('mirage:unix');
    const storage = await ws.nxJson<ProjectJson>(['show', 'project', 'storage', '--json']);
    expect(storage.targets['build']!.options).toEqual({ name: 'storage', target: 'xen', artifact: 'storage.xen' });
  });

  it('outputs follow the configuration chosen per invocation', async () => {
    const spt = await ws.nx(['show', 'target', 'outputs', 'hello:build', '-c', 'spt']);
    expect(spt.all).toContain('unikernels/hello/dist/hello.spt');
    const dflt = await ws.nx(['show', 'target', 'outputs', 'hello:build']);
    expect(dflt.all).toContain('unikernels/hello/dist/hello.hvt');
  });

  it('unikernel inputs hold no npm packages and no web app files, but tool versions', async () => {
    const inputs = await ws.nxJson<{ files: string[]; runtime?: string[]; external?: string[] }>(['show', 'target', 'inputs', 'hello:build', '--json']);
    expect(inputs.files).toContain('unikernels/hello/config.ml');
    expect(inputs.files).toContain('unikernels/hello/unikernel.ml');
    expect(inputs.files.filter((f) => f.startsWith('apps/') || f.includes('package-lock'))).toEqual([]);
    expect(inputs.files.filter((f) => f.includes('_build') || f.includes('duniverse'))).toEqual([]);
    expect(inputs.external).toEqual(['opam:cmdliner-stdlib', 'opam:duration', 'opam:lwt', 'opam:mirage-bootvar', 'opam:mirage-crypto-rng-mirage', 'opam:mirage-logs', 'opam:mirage-mtime', 'opam:mirage-ptime', 'opam:mirage-runtime', 'opam:mirage-sleep', 'opam:mirage-solo5']);
    // The tool versions come from the files the toolchain task of the run leaves (build.spec): its version probes
    // run once a run, for its own key.
    expect(inputs.runtime).toBeUndefined();
    const toolchain = await ws.nxJson<{ runtime?: string[] }>(['show', 'target', 'inputs', '@nx-mirage:toolchain', '--json']);
    expect(toolchain.runtime).toEqual(expect.arrayContaining(['mirage --version', 'dune --version', 'ocamlfind -toolchain solo5 ocamlopt -version']));
    // The control: a target that declares no external dependencies hashes all of them, lockfile included.
    const web = await ws.nxJson<{ external?: string[] }>(['show', 'target', 'inputs', 'web:build', '--json']);
    expect(web.external).toEqual(['AllExternalDependencies']);
    const configure = await ws.nxJson<{ files: string[]; external?: string[] }>(['show', 'target', 'inputs', 'hello:configure', '--json']);
    expect(configure.files).toContain('unikernels/hello/config.ml');
    expect(configure.files).not.toContain('unikernels/hello/unikernel.ml');
    expect(configure.external).toBeUndefined();
    expect(inputs.external?.filter((e) => e.startsWith('npm:') || e === 'AllExternalDependencies')).toEqual([]);
  });

  it('a wrong plugin option fails the graph with one message naming the option and the allowed values', async () => {
    const nxJson = ws.read('nx.json');
    ws.writeJson('nx.json', { plugins: [{ plugin: 'nx-mirage', options: { target: 'kvm' } }] });
    try {
      const r = await ws.nx(['show', 'projects']);
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toContain('"target": must be a mirage target, one of unix, macosx, hvt, spt, virtio, muen, genode, xen, qubes, unikraft-qemu, unikraft-firecracker; got "kvm"');
    } finally {
      ws.write('nx.json', nxJson);
    }
  });

  it('two unikernels with one name fail with both files named', async () => {
    ws.write('unikernels/hello-copy/config.ml', unikernel('hello'));
    try {
      const r = await ws.nx(['show', 'projects']);
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toContain('Two unikernels are named "hello": unikernels/hello-copy/config.ml and unikernels/hello/config.ml.');
    } finally {
      ws.remove('unikernels/hello-copy');
    }
  });
});
