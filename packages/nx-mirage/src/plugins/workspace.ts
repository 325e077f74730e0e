/**
 * Workspace-wide facts the executors and the sync generator share: the plugin's options as registered in
 * nx.json, and the mirage targets in use (which decide the dune contexts of the root dune-workspace).
 */
import type { NxJsonConfiguration, ProjectConfiguration } from '@nx/devkit';
import { isMirageTarget, type MirageTarget } from '../domain';
import { normalizePluginOptions, type NormalizedPluginOptions } from './options';

const PLUGIN = /(^|[\\/])nx-mirage([\\/](plugin|dist[\\/]src[\\/](index|plugin)(\.js)?))?$/;

/** The options of the nx-mirage entries in nx.json (merged when it is registered several times). */
export function pluginOptionsFromNxJson(nxJson: NxJsonConfiguration | undefined): NormalizedPluginOptions {
  const entries = (nxJson?.plugins ?? []).filter((p) => PLUGIN.test(typeof p === 'string' ? p : p.plugin));
  const options = entries.map((p) => normalizePluginOptions(typeof p === 'string' ? {} : p.options));
  const [first, ...rest] = options;
  if (!first) return normalizePluginOptions({});
  return {
    ...first,
    additionalTargets: [...new Set([first, ...rest].flatMap((o) => o.additionalTargets))],
  };
}

export const BUILD_EXECUTOR = 'nx-mirage:build';

/** The mirage target of every unikernel project (its build target's default), plus `additionalTargets`. */
export function targetsInUse(projects: Record<string, ProjectConfiguration>, options: NormalizedPluginOptions): MirageTarget[] {
  const used = new Set<MirageTarget>(options.additionalTargets);
  for (const project of Object.values(projects)) {
    for (const target of Object.values(project.targets ?? {})) {
      const t = (target.options as { target?: string } | undefined)?.target;
      if (target.executor === BUILD_EXECUTOR && t && isMirageTarget(t)) used.add(t);
    }
  }
  return [...used].sort();
}

/** Whether a unikernel's config.ml sits at the dune root itself (mirage then writes the root `dune` file). */
export function rootHasUnikernel(projects: Record<string, ProjectConfiguration>, duneRoot: string): boolean {
  return Object.values(projects).some(
    (p) => (p.root === duneRoot || (duneRoot === '.' && p.root === '')) && Object.values(p.targets ?? {}).some((t) => t.executor === BUILD_EXECUTOR),
  );
}
