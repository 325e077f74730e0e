/**
 * What is installed: tools on PATH, findlib toolchains, and the versions that make the toolchain fingerprint.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from './path-lookup';
import { VERSION_PROBES, crossCompilerProbe, normalizeVersion } from '../domain';
import { probe } from './process';
import { execa } from 'execa';

export async function onPath(tool: string): Promise<boolean> {
  return (await findOnPath(tool)) !== null;
}

export type ToolchainCheck = { defined: true } | { defined: false; reason: string };

/**
 * Whether the findlib toolchain `name` is defined the way dune reads it: dune 2.9 reads only
 * `<conf>.d/<name>.conf`, where conf is $OCAMLFIND_CONF or `ocamlfind printconf conf`, and dune 3 silently
 * falls back to the host compiler when it is missing, so both are checked before dune runs.
 */
export async function checkFindlibToolchain(name: string, cwd: string): Promise<ToolchainCheck> {
  const conf = await findlibConf(cwd);
  if (!conf) return { defined: false, reason: '`ocamlfind printconf conf` failed' };
  const snippet = join(`${conf}.d`, `${name}.conf`);
  const r = await execa('ocamlfind', ['-toolchain', name, 'printconf', 'path'], { cwd, reject: false });
  if (/Undefined toolchain/i.test(String(r.stderr))) return { defined: false, reason: `ocamlfind reports "Undefined toolchain: ${name}"; ${snippet} does not define it` };
  if (!existsSync(snippet)) return { defined: false, reason: `${snippet} does not exist (dune 2.9 reads the toolchain only from there)` };
  return { defined: true };
}

export interface ToolchainFingerprint {
  mirage?: string;
  dune?: string;
  ocaml?: string;
  /** Cross compiler versions by findlib toolchain name. */
  cross: Record<string, string | undefined>;
}

/** What each version probe printed, once per process, PATH and directory (an executor process may ask many times). */
const versions = new Map<string, Promise<string | undefined>>();

/** The output of a version probe (`VERSION_PROBES`, `crossCompilerProbe`), run once per process, PATH and directory. */
export function probeVersion(command: readonly string[], cwd: string): Promise<string | undefined> {
  const key = [process.env['PATH'] ?? '', cwd, ...command].join('\0');
  let version = versions.get(key);
  if (!version) versions.set(key, (version = probe(command[0]!, command.slice(1), cwd)));
  return version;
}

/** Versions of the tools in use, probed once per process and toolchain set. */
const memo = new Map<string, Promise<ToolchainFingerprint>>();

export function toolchainFingerprint(cwd: string, toolchains: readonly string[]): Promise<ToolchainFingerprint> {
  const key = `${cwd}\0${[...toolchains].sort().join(',')}`;
  let found = memo.get(key);
  if (!found) {
    found = (async () => {
      const version = (p: readonly string[]) => probeVersion(p, cwd);
      const [mirage, dune, ocaml, ...cross] = await Promise.all([
        version(VERSION_PROBES.mirage),
        version(VERSION_PROBES.dune),
        version(VERSION_PROBES.ocaml),
        ...toolchains.map((t) => version(crossCompilerProbe(t))),
      ]);
      // `mirage --version` prints the tag (v4.11.1); the manifest and the toolchain record say 4.11.1 alike.
      return { mirage: mirage && normalizeVersion(mirage), dune, ocaml, cross: Object.fromEntries(toolchains.map((t, i) => [t, cross[i]])) };
    })();
    memo.set(key, found);
  }
  return found;
}

/**
 * The findlib configuration that defines `toolchains` the way dune reads it (the conf file, its `.d`
 * directory, one `NAME.conf` each), as seen with `env`; empty without ocamlfind.
 */
export async function findlibConfFiles(toolchains: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  const conf = await findlibConf(cwd, env);
  return conf ? [conf, `${conf}.d`, ...toolchains.map((t) => join(`${conf}.d`, `${t}.conf`))] : [];
}

/** The findlib configuration file in `env`: $OCAMLFIND_CONF, else what `ocamlfind printconf conf` says. */
async function findlibConf(cwd: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  return (env ?? process.env)['OCAMLFIND_CONF'] || (await probe('ocamlfind', ['printconf', 'conf'], cwd, env));
}
