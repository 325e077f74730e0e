/**
 * The reliability and security matrix (README "Reliability and security matrix"): hostile input, broken
 * environments and injected faults, each with the exact outcome a user sees.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger as pluginLogger } from '@nx/devkit';
import { logger } from '../src/executors/log';
import { execFileSync, spawnSync } from 'node:child_process';
import fg from 'fast-glob';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cleanExecutor from '../src/executors/clean/executor';
import configureExecutor from '../src/executors/configure/executor';
import buildExecutor from '../src/executors/build/executor';
import { MirageWorkspace, writeUnikernel } from './mirage-workspace';

// Everything a shell would act on, nothing dune's command line refuses (mirage passes DIR/config.exe to it as it is).
const HOSTILE_DIR = "odd/q'uote$HOME`touch${IFS}PWNED2`&x|y>z*";
let m: MirageWorkspace;
let mirageLog: string;

async function target(project: string, name: string) {
  const ctx = await m.context(project);
  return { ctx, options: ctx.projectsConfigurations.projects[project]!.targets![name]!.options as Record<string, unknown> };
}

/** Files a shell acting on the hostile input would have made, in the workspace or under /tmp (other tests create and remove files there meanwhile: a path that vanishes is not an error). */
const pwned = () =>
  [m.ws.root, '/tmp'].flatMap((cwd) => fg.sync('**/PWNED*', { cwd, absolute: true, deep: 3, dot: true, onlyFiles: false, suppressErrors: true }));

const sha = (rel: string) => createHash('sha256').update(readFileSync(m.ws.path(rel))).digest('hex');

beforeAll(() => {
  m = new MirageWorkspace({
    plugins: [{ plugin: 'nx-mirage', options: { target: 'unix', monorepo: false, unikernels: { kill: { target: 'hvt' }, odd: { configureFlags: ['--no-extra-repo'] } } } }],
  });
  mirageLog = m.ws.path('.mirage.log');
  m.activate({ MIRAGE_STANDIN_LOG: mirageLog });
  // The unikernels the options name exist from the start: settings for a unikernel that does not exist fail the graph.
  writeUnikernel(m.ws, HOSTILE_DIR, 'odd');
  writeUnikernel(m.ws, 'apps/kill', 'kill');
});

afterAll(() => m?.cleanup());

describe('hostile input is passed verbatim or rejected, never run by a shell', () => {
  it('builds a unikernel in a directory named with quotes, $, backticks, & | > *', async () => {
    const configure = await target('odd', 'configure');
    expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
    // mirage got the path as a single argument.
    expect(readFileSync(mirageLog, 'utf8')).toContain(`configure -f ${HOSTILE_DIR}/config.ml -t unix --no-extra-repo`);
    const build = await target('odd', 'build');
    expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: true });
    expect(execFileSync(m.ws.path(`${HOSTILE_DIR}/dist/odd`), { encoding: 'utf8' })).toBe('odd says hello\n');
    expect(pwned()).toEqual([]);
  });

  it('passes configure flags a shell would act on to mirage as single arguments, and reports mirage refusing them', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const configure = await target('odd', 'configure');
    const flags = ['--hello=$(touch PWNED3)', 'semi;colon', 'back`tick`', '-rf'];
    expect(await configureExecutor({ ...configure.options, configureFlags: flags } as never, configure.ctx)).toEqual({ success: false });
    expect(readFileSync(mirageLog, 'utf8')).toContain(`configure -f ${HOSTILE_DIR}/config.ml -t unix --hello=$(touch PWNED3) semi;colon back\`tick\` -rf`);
    expect(pwned()).toEqual([]);
    error.mockRestore();
  });

  it('does not infer a unikernel mirage or dune could not build, and says why', async () => {
    const warn = vi.spyOn(pluginLogger, 'warn').mockImplementation(() => undefined);
    writeUnikernel(m.ws, 'apps/-rf', 'dash');
    writeUnikernel(m.ws, 'apps/sp ace', 'space');
    writeUnikernel(m.ws, 'apps/call$(x)', 'paren');
    writeUnikernel(m.ws, 'apps/sémi', 'accent');
    const projects = await m.projects();
    for (const p of ['dash', 'space', 'paren', 'accent']) expect(projects[p]).toBeUndefined();
    const warnings = warn.mock.calls.map((c) => String(c[0]));
    expect(warnings).toContain(
      'nx-mirage: apps/-rf/config.ml is not used as a MirageOS unikernel: its directory name "-rf" starts with "-", which the OCaml compilers that dune runs read as an option; rename the directory.',
    );
    expect(warnings).toContain(
      'nx-mirage: apps/sp ace/config.ml is not used as a MirageOS unikernel: its directory "apps/sp ace" contains white space: mirage configure passes DIR/config.exe to dune, which reads it as dune syntax and fails; rename the directory (letters, digits and - _ . + @ , = ~ % are safe).',
    );
    expect(warnings.some((w) => w.startsWith('nx-mirage: apps/call$(x)/config.ml is not used as a MirageOS unikernel: its directory "apps/call$(x)" contains "("'))).toBe(true);
    expect(warnings.some((w) => w.includes('contains the non-ASCII character "é"'))).toBe(true);
    for (const d of ['apps/-rf', 'apps/sp ace', 'apps/call$(x)', 'apps/sémi']) m.ws.remove(d);
    warn.mockRestore();
  });
});

describe('links out of the workspace', () => {
  it('a dist/ that links outside is never written through, a manifest link is replaced, and clean removes nothing out there', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const outside = mkdtempSync(join(tmpdir(), 'nx-mirage-outside-'));
    try {
      writeUnikernel(m.ws, 'apps/linked', 'linked');
      const configure = await target('linked', 'configure');
      expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
      const build = await target('linked', 'build');
      writeFileSync(join(outside, 'linked'), 'not the build\'s');
      // dist/ itself a link out of the workspace: refused before anything is written.
      m.ws.remove('apps/linked/dist');
      symlinkSync(outside, m.ws.path('apps/linked/dist'));
      expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: false });
      expect(String(error.mock.calls.at(-1)?.[0])).toContain(`apps/linked/dist/ leads outside the workspace (to ${realpathSync(outside)}) through a link`);
      expect(readdirSync(outside)).toEqual(['linked']);
      expect(readFileSync(join(outside, 'linked'), 'utf8')).toBe('not the build\'s');
      // clean removes the link's files through nothing: what is out there stays.
      const clean = await target('linked', 'clean');
      expect(await cleanExecutor(clean.options as never, clean.ctx)).toEqual({ success: true });
      expect(readFileSync(join(outside, 'linked'), 'utf8')).toBe('not the build\'s');
      expect(String(warn.mock.calls.at(-1)?.[0])).toMatch(/^nx-mirage: left apps\/linked\/dist\/linked alone: it lies outside the workspace through a link/);
      // A manifest that is a link out of the workspace is replaced by the build, not written through.
      m.ws.remove('apps/linked/dist');
      expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
      symlinkSync(join(outside, 'linked'), m.ws.path('apps/linked/dist/linked.manifest.json'));
      expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: true });
      expect(readFileSync(join(outside, 'linked'), 'utf8')).toBe('not the build\'s');
      expect(lstatSync(m.ws.path('apps/linked/dist/linked.manifest.json')).isSymbolicLink()).toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
      error.mockRestore();
      warn.mockRestore();
    }
  });
});

describe('faults', () => {
  it('an unwritable dist/ fails the build clearly and leaves nothing half-written', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    writeUnikernel(m.ws, 'apps/ro', 'ro');
    const configure = await target('ro', 'configure');
    expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
    // As root, permissions do not stop writes; a file where dist/ should be does.
    m.ws.remove('apps/ro/dist');
    m.ws.write('apps/ro/dist', 'not a directory');
    const build = await target('ro', 'build');
    expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: false });
    expect(String(error.mock.calls.at(-1)?.[0])).toMatch(/^ro: cannot write apps\/ro\/dist\/: (ENOTDIR|EEXIST) \(.*\)\. Make room, or make the directory writable \(and a directory\), then build again; the previous artifact, if any, is left as it was\.$/);
    expect(readdirSync(m.ws.path('apps/ro'))).not.toContainEqual(expect.stringMatching(/\.tmp|\.\d+$/));
    m.ws.remove('apps/ro/dist');
    expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
    expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: true });
    error.mockRestore();
  });

  it('a dune killed mid-build leaves the previous artifact and manifest, and the next build succeeds', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const configure = await target('kill', 'configure');
    const build = await target('kill', 'build');
    expect(await configureExecutor(configure.options as never, configure.ctx)).toEqual({ success: true });
    expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: true });
    const before = { artifact: sha('apps/kill/dist/kill.hvt'), manifest: m.ws.read('apps/kill/dist/kill.hvt.manifest.json') };

    // A module slow enough to compile that dune can be caught in the middle.
    const cases = Array.from({ length: 2000 }, (_, i) => `  | ${i} -> "${'x'.repeat(i % 40)}${i}"`).join('\n');
    m.ws.write('apps/kill/slow.ml', `let f = function\n${cases}\n  | _ -> ""\n`);
    m.ws.write('apps/kill/unikernel.ml', 'let start () = print_endline (Slow.f 3)\n');
    const runs = m.duneRuns().length;
    const building = buildExecutor(build.options as never, build.ctx);
    // Kill the real dune (the spy's child) once the cross compiler is compiling slow.ml: mid-build, for sure.
    let spy: string | undefined;
    for (let i = 0; i < 6000 && !spy; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const compiling = m.toolchain.calls('ocamlopt').some(([, args]) => args.includes('slow.ml'));
      const lines = readFileSync(m.spyLog, 'utf8').trim().split('\n').filter((l) => l.startsWith('start\t') && l.includes('\tbuild '));
      if (compiling && lines.length > runs) spy = lines.at(-1)!.split('\t')[1];
    }
    expect(spy).toBeDefined();
    spawnSync('pkill', ['-KILL', '-P', spy!]);
    expect(await building).toEqual({ success: false });
    expect(sha('apps/kill/dist/kill.hvt')).toBe(before.artifact);
    expect(m.ws.read('apps/kill/dist/kill.hvt.manifest.json')).toBe(before.manifest);
    expect(readdirSync(m.ws.path('apps/kill/dist')).sort()).toEqual(['dune', 'kill.hvt', 'kill.hvt.manifest.json']);

    expect(await buildExecutor(build.options as never, build.ctx)).toEqual({ success: true });
    const after = JSON.parse(m.ws.read('apps/kill/dist/kill.hvt.manifest.json'));
    expect(after.sha256).toBe(sha('apps/kill/dist/kill.hvt'));
    expect(after.sha256).not.toBe(before.artifact);
    expect(m.toolchain.calls('ocamlopt').filter(([, args]) => args.includes('slow.ml')).length).toBeGreaterThanOrEqual(2);
    error.mockRestore();
  });
});
