/**
 * nx-mirage's project inference: every `config.ml` that is a MirageOS configuration becomes an Nx project
 * named after its unikernel. Parsing results are cached by file content, so a warm graph computation reads
 * no config.ml at all.
 */
import { dirname, join } from 'node:path';
import { AggregateCreateNodesError, logger, type CreateNodes, type CreateNodesResult } from '@nx/devkit';
import { readConfigMl, type ConfigProblem, type MirageConfigInfo } from '../domain';
import { readTextFile } from '../adapters/files';
import { packageInfo } from '../utils/package-info';
import { PluginCache, hashFiles, pluginCachePath } from './nx-internals';
import { normalizePluginOptions, type MiragePluginOptions } from './options';
import { buildUnikernelProject } from './project';

export const CONFIG_GLOB = '**/config.ml';

/** Directories whose config.ml files are build products or vendored sources, never unikernels of the workspace. */
const SKIPPED_DIRS = new Set(['_build', 'duniverse', 'dist', 'node_modules']);

export function isSkippedConfigFile(file: string): boolean {
  return file.split('/').slice(0, -1).some((segment) => SKIPPED_DIRS.has(segment));
}

/** Counts config.ml parses, so tests can prove a warm run parses nothing. */
export const parseStats = { parsed: 0 };

export const createNodes: CreateNodes<MiragePluginOptions> = [
  CONFIG_GLOB,
  async (configFiles, rawOptions, context) => {
    const options = normalizePluginOptions(rawOptions);
    // Sorted, so that which of two same-named unikernels is reported does not depend on discovery order.
    const files = configFiles.filter((f) => !isSkippedConfigFile(f)).sort();
    const infos = await readConfigs(context.workspaceRoot, files);

    const results: Array<readonly [string, CreateNodesResult]> = [];
    const errors: Array<[string, Error]> = [];
    const owners = new Map<string, string>();
    const usable: Array<{ file: string; projectRoot: string; info: MirageConfigInfo & { name: string } }> = [];
    files.forEach((file, i) => {
      const info = infos[i]!;
      const problems = [...info.problems];
      if (info.name !== undefined && !PROJECT_NAME.test(info.name)) {
        problems.push({
          line: info.nameLine,
          message: `the unikernel name ${JSON.stringify(info.name)} cannot be an Nx project name; use letters, digits and _ . - (starting with a letter, digit or _)`,
        });
      }
      const use = info.isMirage && info.name !== undefined && problems.every(tolerable);
      for (const problem of problems) {
        const where = `${file}${problem.line ? `:${problem.line}` : ''}`;
        logger.warn(
          use
            ? `nx-mirage: ${where}: ${problem.message}.`
            : `nx-mirage: ${where} is not used as a MirageOS unikernel: ${problem.message}.`,
        );
      }
      if (!use) return;
      const projectRoot = dirname(file);
      if (!isInside(projectRoot, options.duneRoot)) {
        logger.warn(`nx-mirage: ${file} is not used as a MirageOS unikernel: it lies outside the dune root "${options.duneRoot}" (plugin option duneRoot).`);
        return;
      }
      const name = info.name!;
      const claimed = owners.get(name);
      if (claimed) {
        errors.push([
          file,
          new Error(
            `Two unikernels are named "${name}": ${claimed} and ${file}. Unikernel names become Nx project names and must be unique; ` +
              `rename one of them in its \`register "${name}" [...]\` call.`,
          ),
        ]);
        return;
      }
      owners.set(name, file);
      usable.push({ file, projectRoot, info: { ...info, name } });
    });
    const production = context.nxJsonConfiguration?.namedInputs?.['production'] ? 'production' : 'default';
    const names = usable.map((u) => u.info.name);
    for (const { file, projectRoot, info } of usable) {
      results.push([file, { projects: { [projectRoot]: buildUnikernelProject({ projectRoot, info }, options, production, names) } }]);
    }
    if (errors.length > 0) throw new AggregateCreateNodesError(errors, results);
    return results;
  },
];

/** Nx 21 and 22 look for `createNodesV2`; Nx 23 and later for `createNodes`. */
export const createNodesV2 = createNodes;

function isInside(dir: string, root: string): boolean {
  return root === '.' || dir === root || dir.startsWith(`${root}/`);
}

/** Names Nx accepts in `nx run NAME:target` and that mirage turns into file names unchanged. */
const PROJECT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A version guard that cannot be checked still leaves a usable unikernel; every other problem hides part of the file. */
function tolerable(problem: ConfigProblem): boolean {
  return problem.message.startsWith('the version guard');
}

async function readConfigs(workspaceRoot: string, files: string[]): Promise<MirageConfigInfo[]> {
  const version = packageInfo().version;
  const cache = new PluginCache<MirageConfigInfo>(pluginCachePath(workspaceRoot, 'nx-mirage-config-ml.hash'));
  try {
    const hashes = await hashFiles(workspaceRoot, files);
    return await Promise.all(
      files.map(async (file, i) => {
        const key = `${version}:${hashes[i]}`;
        const hit = cache.get(key);
        if (hit) return hit;
        const read = await readTextFile(join(workspaceRoot, file));
        parseStats.parsed++;
        const info: MirageConfigInfo = read.ok
          ? readConfigMl(read.text)
          : { isMirage: false, packages: [], localLibs: [], dataDirs: [], problems: [{ message: `it cannot be read (${read.reason})` }] };
        // Unreadable files are not cached: the next run tries again once permissions are fixed.
        if (read.ok) cache.set(key, info);
        return info;
      }),
    );
  } finally {
    cache.writeToDisk();
  }
}
