import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger, type CreateNodesContext, type CreateNodesResult, type ProjectConfiguration } from '@nx/devkit';
import { updateContextWithChangedFiles } from 'nx/src/utils/workspace-context';
import fg from 'fast-glob';
import { TempWorkspace } from '../../test/temp-workspace';
import { CONFIG_GLOB, createDependencies, createNodes, createNodesV2, parseStats } from './plugin';
import { modelFromProjects } from '../domain';
import { schema as buildSchema } from '../executors/build/schema';

const unikernel = (name: string, extra = '') => `(* mirage >= 4.9.0 & < 4.12.0 *)
open Mirage
let main = main "Unikernel.Main" job ~packages:[ package "duration" ]${extra}
let () = register "${name}" [ main ]
`;

let ws: TempWorkspace;
let context: CreateNodesContext;

async function infer(options?: unknown) {
  const files = await fg(CONFIG_GLOB, { cwd: ws.root, dot: false });
  files.sort();
  return createNodes[1](files, options as never, context);
}

function projects(results: ReadonlyArray<readonly [string, CreateNodesResult]>): Record<string, ProjectConfiguration> {
  return Object.assign({}, ...results.map(([, r]) => r.projects ?? {}));
}

/** What createDependencies gets for these projects: the files of the workspace, and no external nodes. */
function dependencyContext(p: Record<string, ProjectConfiguration>) {
  const files = fg.sync(CONFIG_GLOB, { cwd: ws.root }).map((file) => ({ file, hash: '' }));
  return {
    projects: Object.fromEntries(Object.values(p).map((x) => [x.name!, x])),
    externalNodes: {},
    nxJsonConfiguration: {},
    fileMap: { projectFileMap: {}, nonProjectFiles: files },
    filesToProcess: { projectFileMap: {}, nonProjectFiles: [] },
  };
}

beforeEach(() => {
  ws = new TempWorkspace();
  ws.write('nx.json', '{}');
  context = { nxJsonConfiguration: {}, workspaceRoot: ws.root };
  process.env.NX_CACHE_PROJECT_GRAPH = 'false';
});

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.NX_CACHE_PROJECT_GRAPH;
  ws.cleanup();
});

describe('createNodes', () => {
  it('is also exported as createNodesV2 for Nx 21 and 22', () => {
    expect(createNodesV2).toBe(createNodes);
    expect(createNodes[0]).toBe('**/{config.ml,dune,*.opam.locked,*.opam.locked.json}');
  });

  it('infers one project per unikernel, named after it, with its own targets, and one dune root project with the shared ones', async () => {
    ws.write('apps/hello/config.ml', unikernel('hello'));
    ws.write('apps/web/config.ml', unikernel('web.v2-site'));
    const p = projects(await infer());
    expect(Object.keys(p).sort()).toEqual(['.nx-mirage', 'apps/hello', 'apps/web']);
    expect(p['apps/hello']!.name).toBe('hello');
    expect(p['apps/web']!.name).toBe('web.v2-site');
    expect(Object.keys(p['apps/hello']!.targets!)).toEqual(['configure', 'build', 'run', 'serve', 'verify', 'clean', 'locked-versions']);
    expect(p['apps/hello']!.tags).toEqual(['mirage', 'ocaml', 'mirage:unikernel', 'mirage:solo5', 'mirage:target:hvt']);
    expect(p['apps/hello']!.metadata?.technologies).toEqual(['mirage', 'ocaml', 'dune']);
    const root = p['.nx-mirage']!;
    expect(root.name).toBe('@nx-mirage');
    expect(Object.keys(root.targets!)).toEqual(['toolchain', 'lock', 'install-switch', 'pull', 'depends']);
    // Every target says what it does and how to get help.
    for (const project of Object.values(p)) {
      for (const [name, target] of Object.entries(project.targets!)) {
        expect(target.metadata?.description, `${project.name}:${name}`).toMatch(/\w/);
        expect(target.metadata?.help?.command, `${project.name}:${name}`).toMatch(/--help/);
      }
    }
  });

  it('carries the model in metadata, from which executors read it back', async () => {
    ws.write('apps/hello/config.ml', unikernel('hello'));
    ws.write('apps/web/config.ml', unikernel('web'));
    ws.write('libs/greet/dune', '(library (name greet) (libraries fmt))\n');
    const p = projects(await infer({ unikernels: { web: { target: 'unix', configureFlags: ['--net=host'] } }, additionalTargets: ['xen'] }));
    const [view] = modelFromProjects(Object.fromEntries(Object.values(p).map((x) => [x.name!, x])));
    expect(view).toEqual({
      duneRoot: '.',
      project: '@nx-mirage',
      targets: ['hvt', 'unix', 'xen'],
      libraries: [{ project: 'greet', root: 'libs/greet', dir: 'libs/greet' }],
      unikernels: [
        {
          project: 'hello',
          name: 'hello',
          root: 'apps/hello',
          dir: 'apps/hello',
          target: 'hvt',
          configureFlags: [],
          versionGuard: '(* mirage >= 4.9.0 & < 4.12.0 *)',
          packages: ['cmdliner-stdlib', 'duration', 'lwt', 'mirage-bootvar', 'mirage-crypto-rng-mirage', 'mirage-logs', 'mirage-mtime', 'mirage-ptime', 'mirage-runtime', 'mirage-sleep', 'mirage-solo5'],
          localLibs: [],
          dataDirs: [],
        },
        expect.objectContaining({ project: 'web', target: 'unix', configureFlags: ['--net=host'], packages: ['cmdliner-stdlib', 'duration', 'lwt', 'mirage-bootvar', 'mirage-crypto-rng-mirage', 'mirage-logs', 'mirage-mtime', 'mirage-ptime', 'mirage-runtime', 'mirage-sleep', 'mirage-unix'] }),
      ],
    });
  });

  it('builds the hvt target into dist/NAME.hvt after configure and pull, with toolchain inputs', async () => {
    ws.write('uk/config.ml', unikernel('hello'));
    const build = projects(await infer())['uk']!.targets!['build']!;
    expect(build.executor).toBe('nx-mirage:build');
    // Options at the executors' defaults (dune root ".", no configure flags) are left out of the graph.
    expect(build.options).toEqual({ name: 'hello', target: 'hvt', artifact: 'hello.hvt' });
    expect(buildSchema.parse(build.options)).toMatchObject({ duneRoot: '.', configureFlags: [] });
    // No configure task: the build configures what is stale itself, so every build of a run is ready at once.
    expect(build.dependsOn).toEqual([{ projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }, 'locked-versions', '^build']);
    expect(build.cache).toBe(true);
    expect(build.outputs).toContain('{projectRoot}/dist/{options.artifact}');
    // No version probe: Nx would run them again for every task it hashes after another task of the run finished.
    expect(build.inputs!.filter((i) => typeof i === 'object' && 'runtime' in i)).toEqual([]);
    expect(build.inputs).toEqual(
      expect.arrayContaining([
        '{projectRoot}/**/*',
        // One pattern: what build, dune, lock, pull and configure write there (Nx matches {a,b} alternatives).
        '!{projectRoot}/{dist/**/*,_build/**/*,duniverse/**/*,mirage/*.opam.locked,dune,dune.build,dune.config,mirage/context,mirage/dune-workspace.config,mirage/main.ml,mirage/*.opam,mirage/manifest.json,mirage/manifest.ml,mirage/*.xl,mirage/*.xl.in,mirage/*_libvirt.xml,mirage/.nx-mirage-configured.json}',
        // The versions of the tools it runs, from the toolchain task's files (hvt: the solo5 cross compiler).
        { dependentTasksOutputFiles: '.nx-mirage/versions/{source,mirage,dune,ocaml,cross-solo5}' },
        { externalDependencies: ['opam:cmdliner-stdlib', 'opam:duration', 'opam:lwt', 'opam:mirage-bootvar', 'opam:mirage-crypto-rng-mirage', 'opam:mirage-logs', 'opam:mirage-mtime', 'opam:mirage-ptime', 'opam:mirage-runtime', 'opam:mirage-sleep', 'opam:mirage-solo5'] },
      ]),
    );
    // The versions of its packages, which nx affected compares between revisions, on a no-op target the build
    // depends on; not on the build, which hashes the whole lockfile as pull left it. Cached, with an output nothing
    // writes: a hit restores no lockfile.
    const locked = projects(await infer())['uk']!.targets!['locked-versions']!;
    expect(locked).toMatchObject({ executor: 'nx:noop', cache: true, outputs: ['{workspaceRoot}/.nx-mirage/locked-versions/hello.opam.locked'] });
    expect(locked.inputs).toContainEqual({
      json: '{workspaceRoot}/mirage.opam.locked.json',
      fields: ['cmdliner-stdlib', 'duration', 'lwt', 'mirage-bootvar', 'mirage-crypto-rng-mirage', 'mirage-logs', 'mirage-mtime', 'mirage-ptime', 'mirage-runtime', 'mirage-sleep', 'mirage-solo5'],
    });
    expect(JSON.stringify(build.inputs)).not.toContain('opam.locked.json');
    expect(JSON.stringify(projects(await infer())['uk']!.targets!['configure']!.inputs)).not.toContain('opam.locked.json');
    // Every file dune reads for it: the root files, and the dune files of the directories above it.
    const nested = projects(await infer({ monorepo: false }));
    ws.write('apps/deep/uk/config.ml', unikernel('deep'));
    const deep = projects(await infer({ monorepo: false }))['apps/deep/uk']!.targets!['build']!.inputs;
    expect(deep).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/{dune-project,dune-workspace,dune,apps/dune,apps/deep/dune}',
        // Without opam-monorepo, a duniverse/ kept by hand is read too, ignored by git or not.
        { fileset: '{workspaceRoot}/duniverse/**/*', includeIgnored: true },
      ]),
    );
    expect(JSON.stringify(deep)).not.toContain('apps/deep/uk/dune');
    expect(nested['uk']!.targets!['build']!.inputs).toContain('{workspaceRoot}/{dune-project,dune-workspace,dune}');
    expect(JSON.stringify(build.inputs)).not.toContain('fileset');
    // The shared pull has no file inputs (only its stamp): a lockfile bump reaches builds through their own fields, not through it.
    expect(JSON.stringify(projects(await infer())['.nx-mirage']!.targets!['pull']!.inputs)).not.toContain('fileset');
    expect(JSON.stringify(projects(await infer())['.nx-mirage']!.targets!['pull']!.inputs)).not.toContain('{workspaceRoot}');
    expect(build.configurations?.['spt']).toEqual({ target: 'spt', artifact: 'hello.spt' });
    expect(build.configurations?.['unix']).toEqual({ target: 'unix', artifact: 'hello' });
    expect(build.configurations?.['genode']).toBeUndefined();
  });

  it('names the dune root and the configure flags in the options only where they differ from the executors\' defaults', async () => {
    ws.write('ocaml/uk/config.ml', unikernel('hello'));
    ws.write('ocaml/libs/greet/dune', '(library (name greet))\n');
    const p = projects(await infer({ duneRoot: 'ocaml', unikernels: { hello: { configureFlags: ['--no-dhcp'] } } }));
    const targets = p['ocaml/uk']!.targets!;
    for (const name of ['configure', 'build', 'run', 'serve', 'verify', 'clean']) expect(targets[name]!.options).toMatchObject({ duneRoot: 'ocaml' });
    for (const name of ['configure', 'build', 'serve', 'verify']) expect(targets[name]!.options).toMatchObject({ configureFlags: ['--no-dhcp'] });
    expect(p['ocaml/libs/greet']!.targets!['build']!.options).toEqual({ duneRoot: 'ocaml', dir: 'libs/greet' });
    const [view] = modelFromProjects(Object.fromEntries(Object.values(p).map((x) => [x.name!, x])));
    expect(view!.unikernels[0]).toMatchObject({ dir: 'uk', configureFlags: ['--no-dhcp'], localLibs: [], dataDirs: [] });
  });

  it('folds the globs of an input into one {a,b} pattern, except where a directory name has a comma or a brace', async () => {
    ws.write('a,b/uk/config.ml', unikernel('odd'));
    const inputs = projects(await infer())['a,b/uk']!.targets!['build']!.inputs;
    // {a,b/dune} would read as the alternatives "a" and "b/dune": each file is its own pattern.
    expect(inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/dune-project', '{workspaceRoot}/dune-workspace', '{workspaceRoot}/dune', '{workspaceRoot}/a,b/dune']));
    expect(JSON.stringify(inputs)).not.toContain('{dune-project,');
  });

  it('in mode path, caches the toolchain task by the version probes alone, and builds hash its version files', async () => {
    ws.write('uk/config.ml', unikernel('hello'));
    ws.write('lib/dune', '(library (name greet))\n');
    const inPath = projects(await infer());
    const path = inPath['uk']!.targets!;
    const toolchain = inPath['.nx-mirage']!.targets!['toolchain']!;
    // The record is the probes' versions and nothing else: no stamp to check.
    expect(toolchain).toMatchObject({ executor: 'nx-mirage:toolchain', cache: true, options: { unikernels: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(toolchain.inputs).toEqual([
      { runtime: 'mirage --version' },
      { runtime: 'dune --version' },
      { runtime: 'ocamlfind ocamlopt -version' },
      { runtime: 'ocamlfind -toolchain solo5 ocamlopt -version' },
      { externalDependencies: [] },
    ]);
    expect(toolchain.outputs).toEqual(['{workspaceRoot}/.nx-mirage/toolchain.json', '{workspaceRoot}/.nx-mirage/versions']);
    // configure, lock and pull need nothing from it on PATH: pull runs beside it in a cold run.
    expect(path['configure']!.dependsOn).toBeUndefined();
    expect(inPath['.nx-mirage']!.targets!['pull']!.dependsOn).not.toContainEqual({ projects: ['@nx-mirage'], target: 'toolchain' });
    expect(path['build']!.dependsOn).toContainEqual({ projects: ['@nx-mirage'], target: 'toolchain' });
    expect(JSON.stringify(path['build']!.inputs)).not.toContain('toolchain.json');
    // A library: dune and the compilers of every target in use, not mirage.
    expect(inPath['lib']!.targets!['build']!.inputs).toContainEqual({ dependentTasksOutputFiles: '.nx-mirage/versions/{source,dune,ocaml,cross-solo5}' });
    expect(inPath['lib']!.targets!['build']!.dependsOn).toEqual(['^build', { projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }]);
  });

  it('with a toolchain nx-mirage may manage, runs configure and builds after the toolchain and hashes its record', async () => {
    ws.write('uk/config.ml', unikernel('hello'));
    ws.write('lib/dune', '(library (name greet))\n');

    for (const mode of ['auto', 'managed']) {
      const found = projects(await infer({ toolchain: { mode } }));
      const t = found['uk']!.targets!;
      const toolchain = found['.nx-mirage']!.targets!['toolchain']!;
      expect(toolchain.outputs).toEqual(['{workspaceRoot}/.nx-mirage/toolchain.json', '{workspaceRoot}/.nx-mirage/versions']);
      // Explicit inputs and no file among them: Nx 24's task-level affected must not reach every build through it.
      // Cached, keyed by the stamp the last toolchain run left (a runtime input) and by the set of unikernels.
      expect(toolchain).toMatchObject({ cache: true, options: { unikernels: expect.stringMatching(/^[0-9a-f]{16}$/) } });
      expect(toolchain.inputs).toEqual([
        { runtime: expect.stringMatching(/^node \S+\/bin\/toolchain-stamp\.js$/) },
        // The versions the record lists (hvt: the solo5 cross compiler), probed once per run for the builds too.
        { runtime: 'mirage --version' },
        { runtime: 'dune --version' },
        { runtime: 'ocamlfind ocamlopt -version' },
        { runtime: 'ocamlfind -toolchain solo5 ocamlopt -version' },
        { externalDependencies: [] },
      ]);
      expect(found['lib']!.targets!['toolchain']).toBeUndefined();
      expect(t['configure']!.dependsOn).toEqual([{ projects: ['@nx-mirage'], target: 'toolchain' }]);
      expect(t['configure']!.inputs).toContainEqual({ dependentTasksOutputFiles: '.nx-mirage/toolchain.json' });
      expect(t['build']!.inputs).toContainEqual({ dependentTasksOutputFiles: '.nx-mirage/versions/{source,mirage,dune,ocaml,cross-solo5}' });
      expect(t['build']!.dependsOn).toContainEqual({ projects: ['@nx-mirage'], target: 'toolchain' });
      // A library may use vendored packages: it builds after the pull, and after the toolchain, whose files it hashes.
      expect(found['lib']!.targets!['build']!.dependsOn).toEqual(['^build', { projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }]);
      expect(found['.nx-mirage']!.targets!['lock']!.dependsOn).toEqual([{ projects: ['@nx-mirage'], target: 'toolchain' }]);
      expect(found['.nx-mirage']!.targets!['pull']!.dependsOn).toContainEqual({ projects: ['@nx-mirage'], target: 'toolchain' });
    }
  });

  it('keys the cached toolchain target by the set of unikernels and their targets, not by their sources', async () => {
    ws.write('uk/config.ml', unikernel('hello'));
    const key = async (options: Record<string, unknown> = {}) =>
      (projects(await infer({ toolchain: { mode: 'auto' }, ...options }))['.nx-mirage']!.targets!['toolchain']!.options as { unikernels: string }).unikernels;
    const first = await key();
    ws.write('uk/config.ml', unikernel('hello') + '\n(* an edit that changes no target *)\n');
    expect(await key()).toBe(first);
    expect(await key({ target: 'spt' })).not.toBe(first);
    expect(await key({ additionalTargets: ['xen'] })).not.toBe(first);
    ws.write('other/config.ml', unikernel('other'));
    expect(await key()).not.toBe(first);
  });

  it('follows the target chosen in the plugin options, globally and per unikernel', async () => {
    ws.write('a/config.ml', unikernel('a'));
    ws.write('b/config.ml', unikernel('b'));
    ws.write('c/config.ml', unikernel('c'));
    const p = projects(
      await infer({ target: 'unix', configureFlags: ['--no-dhcp'], unikernels: { b: { target: 'xen', configureFlags: ['--net=direct'] }, c: { target: 'unikraft-qemu' } } }),
    );
    const a = p['a']!.targets!;
    expect(a['build']!.options).toEqual({ name: 'a', target: 'unix', artifact: 'a', configureFlags: ['--no-dhcp'] });
    expect(a['build']!.inputs).toContainEqual({ dependentTasksOutputFiles: '.nx-mirage/versions/{source,mirage,dune,ocaml}' });
    expect(a['configure']!.options).toEqual({ name: 'a', target: 'unix', configureFlags: ['--no-dhcp'] });
    expect(p['a']!.tags).toContain('mirage:unix');
    const b = p['b']!.targets!;
    expect(b['configure']!.options).toEqual({ name: 'b', target: 'xen', configureFlags: ['--no-dhcp', '--net=direct'] });
    expect(b['build']!.options).toEqual({ name: 'b', target: 'xen', artifact: 'b.xen', configureFlags: ['--no-dhcp', '--net=direct'] });
    expect(b['build']!.outputs).toContain('{projectRoot}/dist/b.xl*');
    expect(p['b']!.tags).toEqual(['mirage', 'ocaml', 'mirage:unikernel', 'mirage:xen', 'mirage:target:xen']);
    expect(p['c']!.targets!['build']!.inputs).toContainEqual({ dependentTasksOutputFiles: '.nx-mirage/versions/{source,mirage,dune,ocaml,cross-unikraft}' });
    expect(p['c']!.tags).toContain('mirage:unikraft');
  });

  it('uses the target names from the options in targets and dependsOn', async () => {
    ws.write('a/config.ml', unikernel('a'));
    const t = projects(await infer({ buildTargetName: 'mirage-build', configureTargetName: 'mirage-configure', monorepo: false }))['a']!.targets!;
    expect(t['mirage-build']!.dependsOn).toEqual([{ projects: ['@nx-mirage'], target: 'toolchain' }, '^mirage-build']);
    expect(t['build']).toBeUndefined();
  });

  it('locks and pulls once for the dune root, for every unikernel, depending on no configure task', async () => {
    ws.write('a/config.ml', unikernel('a'));
    ws.write('b/config.ml', unikernel('b'));
    const found = projects(await infer({ lockScope: 'workspace', duneRoot: '.' }));
    const t = found['.nx-mirage']!.targets!;
    expect(t['lock']!.options).toEqual({ duneRoot: '.', scope: 'workspace', unikernels: expect.any(String) });
    expect(t['lock']!.outputs).toEqual(['{workspaceRoot}/mirage.opam.locked', '{workspaceRoot}/mirage.opam.locked.json']);
    // A broken config.ml must not stop the others: lock configures what it needs itself, and waits for no
    // configure task.
    expect(t['lock']!.dependsOn).toEqual([]);
    // Both cached under the stamp pull leaves, keyed by the unikernels: a warm run starts no process for either.
    expect(t['pull']!.outputs).toEqual(t['lock']!.outputs);
    // pull locks what is not locked itself: no lock task (and no executor start for it) in a build's run. It
    // waits for every unikernel's locked-versions (no-ops, reading none of their outputs), so that every build
    // of a run is ready when it is.
    expect(t['pull']!.dependsOn).toEqual([{ projects: ['a', 'b'], target: 'locked-versions' }]);
    for (const target of [t['lock']!, t['pull']!]) {
      expect(target.cache).toBe(true);
      expect(target.options.unikernels).toMatch(/^[0-9a-f]{16}$/);
      expect(target.inputs).toEqual([{ runtime: expect.stringMatching(/^node \S+\/bin\/depends-stamp\.js [0-9a-f]{16}$/) }, { externalDependencies: [] }]);
    }
    expect(t['depends']!.dependsOn).toEqual(['install-switch', 'pull']);
    expect(found['a']!.targets!['build']!.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*.opam.locked' });
    const own = projects(await infer({ lockScope: 'unikernel' }))['.nx-mirage']!.targets!;
    expect(own['lock']!.outputs).toEqual(['{workspaceRoot}/a/mirage/*.opam.locked', '{workspaceRoot}/b/mirage/*.opam.locked']);
    expect(own['pull']!.outputs).toEqual(own['lock']!.outputs);
    const without = projects(await infer({ monorepo: false }))['.nx-mirage']!.targets!;
    expect(Object.keys(without)).toEqual(['toolchain', 'install-switch', 'depends']);
  });

  it('gives a library that has a unikernel\'s name a name of its own, so the graph never has two projects of one name', async () => {
    ws.write('hello/config.ml', unikernel('hello', ' ~local_libs:[ "hello" ]'));
    ws.write('hello/lib/dune', '(library (name hello))\n');
    ws.write('greet/config.ml', unikernel('greet'));
    ws.write('greet/lib/dune', '(library (name greet))\n');
    ws.write('greet-lib/config.ml', unikernel('greet-lib'));
    const p = projects(await infer());
    expect(p['hello']!.name).toBe('hello');
    expect(p['hello/lib']!.name).toBe('hello-lib');
    expect(p['greet/lib']!.name).toBe('greet-lib-2');
    // The edge from config.ml's local_libs reaches the library under its project name.
    const deps = await createDependencies({}, { ...dependencyContext(p), workspaceRoot: ws.root } as never);
    expect(deps).toContainEqual(expect.objectContaining({ source: 'hello', target: 'hello-lib' }));
    const names = Object.values(p).map((x) => x.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives library builds the unikernels\' build executor and the same waits', async () => {
    ws.write('a/config.ml', unikernel('a', ' ~local_libs:[ "greet" ]'));
    ws.write('b/config.ml', unikernel('b'));
    ws.write('libs/greet/dune', '(library (name greet) (libraries words))\n');
    ws.write('libs/words/dune', '(library (name words))\n');
    const p = projects(await infer());
    const root = p['.nx-mirage']!.targets!;
    expect(root['libraries']).toBeUndefined();
    // One executor: Nx puts a library build and the unikernel builds waiting for it in one batch (one dune call).
    expect(p['libs/greet']!.targets!['build']).toMatchObject({ executor: 'nx-mirage:build', options: { dir: 'libs/greet' } });
    expect(p['libs/greet']!.targets!['build']!.dependsOn).toEqual(['^build', { projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }]);
    const waits = [{ projects: ['@nx-mirage'], target: 'toolchain' }, { projects: ['@nx-mirage'], target: 'pull' }, 'locked-versions', '^build'];
    expect(p['a']!.targets!['build']!.dependsOn).toEqual(waits);
    expect(p['b']!.targets!['build']!.dependsOn).toEqual(waits);
    // No input carries changes through other projects' builds: a library's change reaches only its users.
    for (const u of ['a', 'b']) expect(JSON.stringify(p[u]!.targets!['build']!.inputs)).not.toContain('transitive');
  });

  it('skips config.ml under _build, duniverse, dist and node_modules', async () => {
    ws.write('uk/config.ml', unikernel('uk'));
    ws.write('_build/default/uk/config.ml', unikernel('copy1'));
    ws.write('uk/duniverse/mirage/config.ml', unikernel('copy2'));
    ws.write('uk/dist/config.ml', unikernel('copy3'));
    ws.write('node_modules/x/config.ml', unikernel('copy4'));
    const results = await createNodes[1](
      ['uk/config.ml', '_build/default/uk/config.ml', 'uk/duniverse/mirage/config.ml', 'uk/dist/config.ml', 'node_modules/x/config.ml'],
      {},
      context,
    );
    expect(Object.keys(projects(results))).toEqual(['uk', '.nx-mirage']);
  });

  it('ignores a config.ml that is not a MirageOS configuration, silently', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    ws.write('tool/config.ml', 'let () = print_endline "other tool"\n');
    expect(await infer()).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns about a broken MirageOS config.ml, naming the file, and keeps the graph', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    ws.write('good/config.ml', unikernel('good'));
    ws.write('bad/config.ml', 'open Mirage\nlet () = register "bad" [ main ]\n(* unterminated');
    ws.write('twice/config.ml', 'open Mirage\nlet () = register "a" []\nlet () = register "b" []\n');
    ws.write('binary/config.ml', Buffer.from([0x6f, 0x70, 0x65, 0x6e, 0, 1, 2, 255]));
    const p = projects(await infer());
    expect(Object.keys(p)).toEqual(['good', '.nx-mirage']);
    const messages = warn.mock.calls.map((c) => String(c[0]));
    expect(messages).toContain('nx-mirage: bad/config.ml:3 is not used as a MirageOS unikernel: unterminated comment starting on line 3.');
    expect(messages.some((m) => m.startsWith('nx-mirage: twice/config.ml:3 is not used as a MirageOS unikernel: `register` is called 2 times'))).toBe(true);
    expect(messages.some((m) => m.startsWith('nx-mirage: binary/config.ml is not used as a MirageOS unikernel: the file contains NUL bytes'))).toBe(true);
  });

  it('warns about an unreadable config.ml instead of failing', async () => {
    if (process.getuid?.() === 0) {
      // root reads every file; make the path a directory-less dangling name instead.
      const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      ws.write('ok/config.ml', unikernel('ok'));
      const results = await createNodes[1](['ok/config.ml', 'gone/config.ml'], {}, context);
      expect(Object.keys(projects(results))).toEqual(['ok', '.nx-mirage']);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/^nx-mirage: gone\/config.ml is not used as a MirageOS unikernel: it cannot be read/);
      return;
    }
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    ws.write('locked/config.ml', unikernel('locked'), 0o000);
    expect(await infer()).toEqual([]);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/permission denied/);
  });

  it('rejects a unikernel name that cannot be an Nx project name', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    ws.write('odd/config.ml', unikernel('my app:1'));
    expect(await infer()).toEqual([]);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/odd\/config.ml:4 is not used as a MirageOS unikernel: the unikernel name "my app:1" cannot be an Nx project name/);
  });

  it('fails clearly when two unikernels claim one name, naming both files', async () => {
    ws.write('one/config.ml', unikernel('same'));
    ws.write('two/config.ml', unikernel('same'));
    ws.write('three/config.ml', unikernel('other'));
    const error = await infer().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const aggregate = error as { errors: Array<[string, Error]>; partialResults: unknown[] };
    expect(aggregate.errors).toHaveLength(1);
    expect(aggregate.errors[0]![0]).toBe('two/config.ml');
    expect(aggregate.errors[0]![1].message).toBe(
      'Two unikernels are named "same": one/config.ml and two/config.ml. Unikernel names become Nx project names and must be unique; rename one of them in its `register "same" [...]` call.',
    );
    expect(aggregate.partialResults).toHaveLength(2);
  });

  it('rejects wrong plugin options with one message naming the option and the allowed values', async () => {
    ws.write('uk/config.ml', unikernel('uk'));
    await expect(infer({ target: 'kvm' })).rejects.toThrow(
      /"target": must be a mirage target, one of unix, macosx, hvt, spt, virtio, muen, genode, xen, qubes, unikraft-qemu, unikraft-firecracker; got "kvm"/,
    );
    await expect(infer({ configureFlags: ['-t', 'unix'] })).rejects.toThrow(/"configureFlags.0": "-t" is set by nx-mirage/);
    await expect(infer({ tagret: 'hvt' })).rejects.toThrow(/unknown option "tagret"; allowed: target, configureFlags, unikernels/);
    await expect(infer({ unikernels: { uk: { target: 'spt', flags: [] } } })).rejects.toThrow(/unknown option "flags" in "unikernels.uk"; allowed: target, configureFlags/);
    await expect(infer({ buildTargetName: 'configure' })).rejects.toThrow(/"buildTargetName": is "configure", the same as configureTargetName/);
    await expect(infer({ unikernels: { 'a b': { target: 'spt' } } })).rejects.toThrow(/"unikernels.a b": is not a unikernel name/);
  });

  it('refuses settings for a unikernel that does not exist (a typo), but not for one whose config.ml is broken', async () => {
    ws.write('uk/config.ml', unikernel('net'));
    ws.write('broken/config.ml', 'open Mirage\nlet main = main "Unikernel" job ~packages:[\nlet () = register "broken" [ main ]\n');
    const error = await infer({ unikernels: { nset: { target: 'unix' } } }).catch((e: unknown) => e);
    const aggregate = error as { errors: Array<[string, Error]> };
    expect(aggregate.errors.map(([file, e]) => [file, e.message])).toEqual([
      [
        'nx.json',
        'The nx-mirage option "unikernels" has settings for "nset", but no config.ml of the dune root "." registers a unikernel of that name (unikernels: broken, net). Fix the key in nx.json, or remove the entry.',
      ],
    ]);
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const p = projects(await infer({ unikernels: { net: { target: 'unix' }, broken: { target: 'spt' } } }));
    expect(p['uk']!.targets!['build']!.options).toMatchObject({ target: 'unix' });
  });

  it('does not infer a unikernel whose name is too long for the files named after it', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    ws.write('long/config.ml', unikernel('u'.repeat(300)));
    ws.write('ok/config.ml', unikernel('ok'));
    const p = projects(await infer());
    expect(Object.values(p).map((x) => x.name).sort()).toEqual(['@nx-mirage', 'ok']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('long/config.ml:4 is not used as a MirageOS unikernel: the unikernel name has 300 characters; artifacts and opam files are named after it, so it must have at most 200'));
  });

  it('caches parse results by file content: a warm run parses nothing, an edit parses one file', async () => {
    delete process.env.NX_CACHE_PROJECT_GRAPH;
    process.env.NX_WORKSPACE_DATA_DIRECTORY = ws.path('.nx/workspace-data');
    try {
      ws.write('a/config.ml', unikernel('a'));
      ws.write('b/config.ml', unikernel('b'));
      const before = parseStats.parsed;
      const cold = projects(await infer());
      expect(parseStats.parsed - before).toBe(2);
      const warm = projects(await infer());
      expect(parseStats.parsed - before).toBe(2);
      expect(warm).toEqual(cold);
      ws.write('b/config.ml', unikernel('b-renamed'));
      await updateContextWithChangedFiles(ws.root, [], ['b/config.ml'], []);
      const edited = projects(await infer());
      expect(parseStats.parsed - before).toBe(3);
      expect(edited['b']!.name).toBe('b-renamed');
    } finally {
      delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
    }
  });
});
