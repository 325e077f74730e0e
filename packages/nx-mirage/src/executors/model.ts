/**
 * The model of the workspace as executors see it: read back from the project graph's metadata, where
 * inference put it, never worked out again from the files.
 */
import type { ExecutorContext } from '@nx/devkit';
import { resolve } from 'node:path';
import { duneRootProjectName, modelFromProjects, type DuneRootView, type MirageTarget, type UnikernelModel } from '../domain';
import { pluginOptionsFromNxJson, type NormalizedPluginOptions } from '../options';
import type { LocatedUnikernel } from './shared';

/** Every dune root of the workspace. */
export function duneRoots(context: ExecutorContext): DuneRootView[] {
  return modelFromProjects(context.projectsConfigurations?.projects ?? {});
}

/** The dune root `duneRoot` (empty when no project belongs to it yet). */
export function duneRootView(context: ExecutorContext, duneRoot: string): DuneRootView {
  return duneRoots(context).find((r) => r.duneRoot === duneRoot) ?? { duneRoot, project: duneRootProjectName(duneRoot), unikernels: [], libraries: [], targets: [] };
}

/** The mirage targets in use in every dune root, plus the plugin's additionalTargets. */
export function targetsInUse(context: ExecutorContext, options: NormalizedPluginOptions = pluginOptionsFromNxJson(context.nxJsonConfiguration)): MirageTarget[] {
  return [...new Set<MirageTarget>([...options.additionalTargets, ...duneRoots(context).flatMap((r) => [...r.targets, ...r.unikernels.map((u) => u.target)])])].sort();
}

/** A unikernel of the model, located in its dune root, for `target` (its own by default). */
export function located(context: ExecutorContext, duneRoot: string, u: UnikernelModel, target: MirageTarget = u.target): LocatedUnikernel {
  return { name: u.name, dir: u.dir, target, root: resolve(context.root, duneRoot), project: u.project };
}

/** The directories (relative to the dune root) where opam-monorepo may have pulled a duniverse/. */
export function duniverseDirs(view: DuneRootView): string[] {
  return ['.', ...view.unikernels.map((u) => u.dir)];
}
