/**
 * The `toolchain` target: resolves the toolchain (creating or updating the managed switch when it is the one
 * in use), says which one is in use and why, prints its key and versions, and writes the toolchain record
 * that configure and build hash, with its stamp (what it was derived from) when the target is cached.
 */
import { dirname, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { logger } from '../log';
import { TOOLCHAIN_RECORD, TOOLCHAIN_VERSIONS, crossVersionName, findlibToolchainsFor, normalizeVersion, renderToolchainRecord, toolchainVersionFiles, type ToolchainRecord } from '../../domain';
import { writeDirectoryFiles, writeFileAtomically } from '../../adapters/files';
import { toolchainFingerprint } from '../../adapters/toolchain';
import { findOnPath } from '../../adapters/path-lookup';
import { observeToolchainStamp, writeToolchainStamp } from '../../adapters/stamp';
import { pluginOptionsFromNxJson } from '../../options';
import { targetsInUse } from '../model';
import { ExecutorError } from '../shared';
import { environmentBeforeToolchain, missingFromPath, toolchainStampFiles, useToolchain } from '../use-toolchain';

/** Where the tools on PATH come from, for the message. */
async function pathOrigin(): Promise<string> {
  const mirage = await findOnPath('mirage');
  if (!mirage) return 'PATH';
  const prefix = process.env['OPAM_SWITCH_PREFIX'];
  if (prefix && mirage.startsWith(prefix + '/')) return `the opam switch ${prefix}`;
  if (mirage.startsWith('/nix/store/')) return `Nix (${dirname(mirage)})`;
  return dirname(mirage);
}

/** Returns the report: which toolchain, why, its key and versions. */
export async function reportToolchain(context: ExecutorContext): Promise<string> {
  const options = pluginOptionsFromNxJson(context.nxJsonConfiguration);
  const resolved = await useToolchain(context, (line) => logger.info(line));
  let record: ToolchainRecord;
  let headline: string;
  if (resolved.managed) {
    const m = resolved.managed;
    record = { source: 'managed', key: m.key, compiler: m.compiler, versions: m.versions };
    headline = `managed opam switch ${m.prefix} (key ${m.key}), because ${resolved.reason}`;
  } else {
    // In mode "auto", tools on PATH were chosen because nothing was missing; in mode "path", check now.
    const missing = options.toolchain.mode === 'path' ? await missingFromPath(context, options) : [];
    if (missing.length > 0) {
      throw new ExecutorError(
        `The OCaml toolchain on PATH cannot build these unikernels:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
          'Or let nx-mirage manage an opam switch for this workspace: set "toolchain": { "mode": "auto" } in the nx-mirage options of nx.json.',
      );
    }
    const toolchains = findlibToolchainsFor(targetsInUse(context, options));
    const fp = await toolchainFingerprint(context.root, toolchains);
    const versions: Record<string, string> = {};
    if (fp.mirage) versions['mirage'] = normalizeVersion(fp.mirage);
    if (fp.dune) versions['dune'] = fp.dune;
    if (fp.ocaml) versions['ocaml'] = fp.ocaml;
    for (const tc of toolchains) if (fp.cross[tc]) versions[crossVersionName(tc)] = fp.cross[tc];
    record = { source: 'path', versions };
    headline = `tools on PATH from ${await pathOrigin()}, because ${resolved.reason}`;
  }
  const rendered = renderToolchainRecord(record);
  await writeFileAtomically(join(context.root, TOOLCHAIN_RECORD), rendered);
  await writeDirectoryFiles(join(context.root, TOOLCHAIN_VERSIONS), toolchainVersionFiles(record));
  if (options.toolchain.mode !== 'path') {
    // What the record was derived from, as the cached toolchain target's runtime input sees it.
    const env = environmentBeforeToolchain();
    await writeToolchainStamp(context.root, await observeToolchainStamp(rendered, await toolchainStampFiles(context, options, env), env));
  }
  return [`nx-mirage toolchain: ${headline}`, ...Object.entries(record.versions).map(([name, version]) => `  ${name} ${version}`)].join('\n') + '\n';
}
