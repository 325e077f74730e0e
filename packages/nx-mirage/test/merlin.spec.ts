/**
 * Editors: `dune ocaml-merlin` (what OCaml-LSP asks) answers for config.ml, with the installed mirage library
 * in scope, and for the unikernel's modules, with its libraries in scope, at once: a unix and an hvt
 * unikernel, each in a dune root (default configuration) with a vendored duniverse/ holding fmt (which the
 * installed mirage library also uses: in one `(libraries mirage)` stanza they would conflict). Real dune and
 * OCaml; mirage and the solo5 toolchain are the stand-ins.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import configureExecutor from '../src/executors/configure/executor';
import { MirageWorkspace, writeUnikernel } from './mirage-workspace';
import { standinMirageFindlibPath } from './fixtures/standins/mirage-findlib';

const UNIVERSE = join(__dirname, 'fixtures', 'standins', 'universe');
const workspaces: MirageWorkspace[] = [];
afterAll(() => workspaces.forEach((w) => w.cleanup()));

/** A dune root with one unikernel using a local library, a vendored fmt, configured by nx-mirage. */
async function configured(target: 'unix' | 'hvt'): Promise<MirageWorkspace> {
  const m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { target } }] });
  workspaces.push(m);
  m.activate();
  m.ws.write('libs/greet/dune', '(library (name greet) (libraries fmt))\n');
  m.ws.write('libs/greet/greet.ml', 'let text = Fmt.str "%s" "hello"\n');
  writeUnikernel(m.ws, 'apps/hello', 'hello', { localLibs: ['greet'] });
  cpSync(join(UNIVERSE, 'fmt'), m.ws.path('duniverse/fmt'), { recursive: true });
  const ctx = await m.context('hello');
  expect(await configureExecutor(ctx.projectsConfigurations.projects['hello']!.targets!['configure']!.options as never, ctx)).toEqual({ success: true });
  return m;
}

/** What merlin gets for a directory, after the build that writes it: `dune ocaml-merlin --dump-config` (dune 2.9; dune 3 moved it). */
function merlinConfig(m: MirageWorkspace, dir: string): string {
  const run = (args: string[]) => execFileSync('dune', args, { cwd: m.ws.root, env: process.env, encoding: 'utf8', stdio: 'pipe' });
  run(['build', `@${dir}/check`]);
  const major = Number(run(['--version']).trim().split('.')[0]);
  return major >= 3 ? run(['ocaml', 'merlin', 'dump-config', dir]) : run(['ocaml-merlin', `--dump-config=${dir}`]);
}

/** The entries of the dump, by the module they configure (`Config` in dune 2.9, `Config: PATH` in dune 3). */
function entries(dump: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of dump.split(/\n(?=[A-Z][A-Za-z0-9_]*(?::[^\n]*)?\n)/)) {
    const [header, ...rest] = block.split('\n');
    const name = header!.split(':')[0]!.trim();
    out.set(name, `${out.get(name) ?? ''}${rest.join('\n')}\n`);
  }
  return out;
}

describe.each(['unix', 'hvt'] as const)('merlin for a %s unikernel', (target) => {
  it('answers for config.ml with the installed mirage library, and for the unikernel with its libraries, at once', async () => {
    const m = await configured(target);
    const dump = merlinConfig(m, 'apps/hello');
    const modules = entries(dump);
    if (process.env['MERLIN_DEBUG']) console.log(dump);
    const mirageDir = join(standinMirageFindlibPath(), 'mirage');
    expect(modules.get('Config')).toContain(mirageDir);
    expect(modules.get('Unikernel')).toContain(`_build/${target === 'hvt' ? 'solo5' : 'default'}/apps/hello/.main.eobjs`);
    expect(modules.get('Unikernel')).toContain('libs/greet');
    expect(modules.get('Unikernel')).not.toContain(mirageDir);
  });
});
