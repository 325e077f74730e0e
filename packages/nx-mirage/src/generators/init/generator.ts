/**
 * `nx add nx-mirage` / `nx g nx-mirage:init`: registers the plugin the first-party way (addPlugin, which
 * picks target names that clash with nothing), writes nx-mirage's root dune-project and dune-workspace when
 * missing, adds .gitignore entries and named inputs, and lets Nx apply the dune root sync before tasks.
 * Running it again changes nothing.
 */
import {
  addDependenciesToPackageJson,
  createProjectGraphAsync,
  formatFiles,
  logger,
  readNxJson,
  runTasksInSerial,
  updateNxJson,
  type GeneratorCallback,
  type Tree,
} from '@nx/devkit';
import { createNodes } from '../../plugins/plugin';
import { addPluginFn } from '../../plugins/nx-internals';
import { packageInfo } from '../../utils/package-info';
import { rootHasUnikernel } from '../../domain';
import { addGitignoreEntries, modelOfTree, parseGeneratorOptions, syncDuneRoot } from '../shared';
import { schema as initSchema, type InitOptions } from './schema';

const PLUGIN = 'nx-mirage';

export function isRegistered(tree: Tree): boolean {
  return (readNxJson(tree)?.plugins ?? []).some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN);
}

export async function initGenerator(tree: Tree, raw: InitOptions = {}): Promise<GeneratorCallback> {
  const options = parseGeneratorOptions(initSchema, raw, 'init');
  const tasks: GeneratorCallback[] = [];

  const newRegistration = !isRegistered(tree);
  if (newRegistration) {
    await addPluginFn()(
      tree,
      await createProjectGraphAsync(),
      PLUGIN,
      createNodes,
      {
        configureTargetName: ['configure', 'mirage-configure'],
        buildTargetName: ['build', 'mirage-build', 'unikernel-build'],
        runTargetName: ['run', 'mirage-run'],
        serveTargetName: ['serve', 'mirage-serve'],
        verifyTargetName: ['verify', 'mirage-verify'],
        cleanTargetName: ['clean', 'mirage-clean'],
      },
      false,
    );
  }

  const nxJson = readNxJson(tree) ?? {};
  let changed = false;
  if (newRegistration) {
    // New workspaces get the toolchain managed on demand; existing registrations keep what they chose.
    // addPlugin has just written the entry in object form.
    nxJson.plugins = (nxJson.plugins ?? []).map((p) =>
      typeof p !== 'string' && p.plugin === PLUGIN ? { ...p, options: { ...(p.options as object), toolchain: { mode: options.toolchain } } } : p,
    );
    changed = true;
  }
  nxJson.namedInputs ??= {};
  if (!nxJson.namedInputs['default']) {
    nxJson.namedInputs['default'] = ['{projectRoot}/**/*', 'sharedGlobals'];
    changed = true;
  }
  if (!nxJson.namedInputs['sharedGlobals']) {
    nxJson.namedInputs['sharedGlobals'] = [];
    changed = true;
  }
  if (!nxJson.namedInputs['production']) {
    nxJson.namedInputs['production'] = ['default'];
    changed = true;
  }
  // configure and build carry the dune root sync generator: apply it before tasks instead of prompting.
  if (nxJson.sync?.applyChanges === undefined) {
    nxJson.sync = { ...nxJson.sync, applyChanges: true };
    changed = true;
  }
  if (changed) updateNxJson(tree, nxJson);

  // What the sync generator would write, from the unikernels already in the tree: a repository with
  // unikernels builds right after `nx add`, in CI too, without an `nx sync` first.
  const model = modelOfTree(tree);
  for (const problem of syncDuneRoot(tree, model.duneRoot, model.targets, rootHasUnikernel(model)).problems) logger.warn(`nx-mirage: ${problem}`);
  addGitignoreEntries(tree, '.gitignore', 'nx-mirage: dune builds and vendored OCaml sources', ['_build/', '_build.unikraft-*/', 'duniverse/', '.nx-mirage/']);

  if (!options.skipPackageJson) {
    tasks.push(addDependenciesToPackageJson(tree, {}, { [PLUGIN]: `^${packageInfo().version}` }, undefined, options.keepExistingVersions));
  }
  if (!options.skipFormat) await formatFiles(tree);
  return runTasksInSerial(...tasks);
}

export default initGenerator;
