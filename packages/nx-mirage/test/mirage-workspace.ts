/**
 * A unikernel workspace on disk for integration tests: real files, real dune and OCaml, with the test
 * stand-ins for mirage and the solo5 toolchain on PATH. Executors run in-process with an ExecutorContext built
 * from the projects nx-mirage infers.
 */
import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { CONFIG_GLOB, createNodes } from '../src/plugins/plugin';
import { TempWorkspace } from './temp-workspace';
import { MIRAGE_STANDIN_BIN, createSolo5Toolchain, type Solo5Toolchain } from './fixtures/standins/solo5-toolchain';
import { standinMirageFindlibPath } from './fixtures/standins/mirage-findlib';

export const DUNE_SPY_BIN = join(__dirname, 'fixtures', 'dune-spy');

/** A shared library with enough code that compiling it twice would show in the wrapper log. */
export function writeSharedLibrary(ws: TempWorkspace, dir = 'libs/shared', name = 'shared'): void {
  ws.write(`${dir}/dune`, `(library (name ${name}))\n`);
  ws.write(`${dir}/${name}.ml`, 'let greeting who = Printf.sprintf "hello %s from %s" who Greeting.origin\nlet checksum () = Greeting.weight 7\n');
  ws.write(`${dir}/greeting.ml`, 'let origin = "shared"\nlet weight n = List.fold_left ( + ) 0 (List.init n (fun i -> i * i))\n');
}

export function writeUnikernel(ws: TempWorkspace, dir: string, name: string, opts: { localLibs?: string[]; network?: boolean; block?: string } = {}): void {
  const libs = opts.localLibs?.length ? ` ~local_libs:[ ${opts.localLibs.map((l) => `"${l}"`).join('; ')} ]` : '';
  // Devices are passed to main, as mirage needs them to be devices of the unikernel.
  const devices = [...(opts.network ? [['network', 'default_network']] : []), ...(opts.block ? [['block', `(block_of_file "${opts.block}")`]] : [])];
  const typ = [...devices.map(([t]) => t), 'job'].join(' @-> ');
  ws.write(
    `${dir}/config.ml`,
    `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\n\nlet main = main "Unikernel"${libs} (${typ})\nlet () = register "${name}" [ main${devices.map(([, d]) => ` $ ${d}`).join('')} ]\n`,
  );
  const body = opts.localLibs?.includes('shared') ? `print_endline (Shared.greeting "${name}"); Printf.printf "%d\\n" (Shared.checksum ())` : `print_endline "${name} says hello"`;
  ws.write(`${dir}/unikernel.ml`, `let start ${devices.length ? devices.map(() => '_').join(' ') : '()'} = ${body}\n`);
}

export class MirageWorkspace {
  readonly ws = new TempWorkspace('nx-mirage-build-');
  readonly toolchain: Solo5Toolchain;
  readonly spyLog: string;
  private readonly savedEnv = { ...process.env };
  /** Directories put first on PATH by every activate() (for example a stand-in tender). */
  pathPrefix: string[] = [];

  constructor(readonly nxJson: Record<string, unknown> = { plugins: ['nx-mirage'] }) {
    this.toolchain = createSolo5Toolchain(this.ws.path('.toolchain'));
    this.spyLog = this.ws.path('.dune-spy.log');
    this.ws.write('nx.json', JSON.stringify(nxJson));
    this.ws.write('.gitignore', '.toolchain\n_build\n');
  }

  /** Puts the stand-ins and the dune spy on PATH for this process (executors inherit it). */
  activate(extra: Record<string, string | undefined> = {}): void {
    Object.assign(process.env, this.toolchain.env, {
      PATH: [...this.pathPrefix, DUNE_SPY_BIN, MIRAGE_STANDIN_BIN, this.toolchain.env['PATH']].join(':'),
      DUNE_SPY_LOG: this.spyLog,
      XDG_CACHE_HOME: this.ws.path('.xdg-cache'),
      NX_CACHE_PROJECT_GRAPH: 'false',
      OCAMLPATH: [standinMirageFindlibPath(), this.savedEnv['OCAMLPATH']].filter(Boolean).join(':'),
    });
    delete process.env['OCAMLFIND_TOOLCHAIN'];
    delete process.env['DUNE_CACHE'];
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }

  restore(): void {
    for (const k of Object.keys(process.env)) if (!(k in this.savedEnv)) delete process.env[k];
    Object.assign(process.env, this.savedEnv);
  }

  async projects(): Promise<Record<string, ProjectConfiguration>> {
    const files = (await fg(CONFIG_GLOB, { cwd: this.ws.root, ignore: ['**/_build/**', '.toolchain*/**', '.opam/**', '**/duniverse/**'] })).sort();
    const options = (this.nxJson['plugins'] as Array<string | { options?: unknown }>)[0];
    const results = await createNodes[1](files, typeof options === 'string' ? {} : (options?.options as never), {
      nxJsonConfiguration: this.nxJson,
      workspaceRoot: this.ws.root,
    });
    const out: Record<string, ProjectConfiguration> = {};
    for (const [, r] of results) for (const p of Object.values(r.projects ?? {})) out[p.name!] = p as ProjectConfiguration;
    return out;
  }

  async context(projectName?: string): Promise<ExecutorContext> {
    const projects = await this.projects();
    return {
      root: this.ws.root,
      cwd: this.ws.root,
      isVerbose: false,
      projectName,
      projectsConfigurations: { version: 2, projects },
      nxJsonConfiguration: this.nxJson,
      projectGraph: { nodes: {}, dependencies: {} },
    } as ExecutorContext;
  }

  /** dune processes recorded by the spy: [start ns, end ns, args]. */
  duneRuns(): Array<{ start: bigint; end: bigint; args: string }> {
    if (!existsSync(this.spyLog)) return [];
    const text = readFileSync(this.spyLog, 'utf8');
    const starts = new Map<string, { start: bigint; args: string }>();
    const runs: Array<{ start: bigint; end: bigint; args: string }> = [];
    for (const line of text.split('\n').filter(Boolean)) {
      const [kind, pid, ns, rest] = line.split('\t');
      if (kind === 'start') starts.set(pid!, { start: BigInt(ns!), args: rest ?? '' });
      else {
        const s = starts.get(pid!);
        if (s) runs.push({ start: s.start, end: BigInt(ns!), args: s.args });
      }
    }
    // Builds of config.exe are mirage's own (configure compiles config.ml), not nx-mirage's.
    return runs.filter((r) => !r.args.startsWith('--version') && !/config\.exe/.test(r.args));
  }

  cleanup(): void {
    this.restore();
    this.ws.cleanup();
  }
}
