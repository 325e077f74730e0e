/**
 * The Nx projects of one dune root, from its model: the dune root project (workspace-wide targets), one
 * project per unikernel and one per OCaml library directory. Each project's metadata carries its part of the
 * model, which executors and the sync generator read back.
 */
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { duneRootMetadata, libraryMetadata, targetInfo, unikernelMetadata, type LibraryModel, type UnikernelModel } from '../domain';
import {
  LOCKED_VERSIONS_TARGET,
  lockedVersionsTarget,
  TECHNOLOGIES,
  buildTarget,
  cleanTarget,
  configureTarget,
  dependsTarget,
  installSwitchTarget,
  libraryBuildTarget,
  libraryFormatTarget,
  libraryTestTarget,
  lockTarget,
  pullTarget,
  runTarget,
  serveTarget,
  verifyTarget,
  toolchainTarget,
  type TargetContext,
} from './targets';

/** Tag of every unikernel project. */
export const UNIKERNEL_TAG = 'mirage:unikernel';

/** The dune root project: toolchain, lock, install-switch, pull and depends, one operation each for the whole dune root. */
export function duneRootProject(ctx: TargetContext): ProjectConfiguration {
  const { options, model } = ctx;
  const targets: Record<string, TargetConfiguration> = { [options.toolchainTargetName]: toolchainTarget(ctx) };
  if (model.unikernels.length > 0) {
    if (options.monorepo) targets[options.lockTargetName] = lockTarget(ctx);
    targets[options.installSwitchTargetName] = installSwitchTarget(ctx);
    if (options.monorepo) targets[options.pullTargetName] = pullTarget(ctx);
    targets[options.dependsTargetName] = dependsTarget(ctx);
  }
  const where = model.duneRoot === '.' ? 'the workspace root' : model.duneRoot;
  return {
    name: model.project,
    root: model.projectRoot,
    projectType: 'library',
    tags: ['mirage', 'ocaml', 'mirage:dune-root'],
    targets,
    metadata: {
      technologies: TECHNOLOGIES,
      description: `nx-mirage dune root (${where}): the OCaml toolchain, and the dependencies every unikernel there shares`,
      mirage: duneRootMetadata(model),
    },
  };
}

/** A unikernel: configure, build, run and clean, its own operations. */
export function unikernelProject(ctx: TargetContext, u: UnikernelModel): ProjectConfiguration {
  const { options, model } = ctx;
  const targets: Record<string, TargetConfiguration> = {
    [options.configureTargetName]: configureTarget(ctx, u),
    [options.buildTargetName]: buildTarget(ctx, u),
    [options.runTargetName]: runTarget(ctx, u),
    [options.serveTargetName]: serveTarget(ctx, u),
    [options.verifyTargetName]: verifyTarget(ctx, u),
    [options.cleanTargetName]: cleanTarget(ctx, u),
  };
  const locked = lockedVersionsTarget(ctx, u);
  if (locked) targets[LOCKED_VERSIONS_TARGET] = locked;
  return {
    name: u.project,
    root: u.root,
    projectType: 'application',
    tags: ['mirage', 'ocaml', UNIKERNEL_TAG, `mirage:${targetInfo(u.target).family}`, `mirage:target:${u.target}`],
    targets,
    metadata: {
      technologies: TECHNOLOGIES,
      description: `MirageOS unikernel "${u.name}" (${u.target})`,
      mirage: unikernelMetadata(u, model.duneRoot),
    },
  };
}

/** An OCaml library directory: build, test (when it has tests) and format (with ocamlformat). */
export function libraryProject(ctx: TargetContext, lib: LibraryModel, hasOcamlformat: boolean): ProjectConfiguration {
  const targets: Record<string, TargetConfiguration> = { [ctx.options.buildTargetName]: libraryBuildTarget(ctx, lib) };
  if (lib.hasTests) targets['test'] = libraryTestTarget(ctx, lib);
  if (hasOcamlformat) targets['format'] = libraryFormatTarget(ctx, lib);
  const names = lib.libraries.map((l) => l.publicName ?? l.name).join(', ');
  return {
    name: lib.project,
    root: lib.root,
    projectType: 'library',
    tags: ['ocaml', 'dune'],
    targets,
    metadata: {
      technologies: ['ocaml', 'dune'],
      description: `OCaml library ${names}`,
      ocaml: { libraries: lib.libraries.map((l) => ({ name: l.name, ...(l.publicName ? { publicName: l.publicName } : {}) })) },
      mirage: libraryMetadata(lib, ctx.model.duneRoot),
    },
  };
}
