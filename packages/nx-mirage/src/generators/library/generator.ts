/**
 * `nx g nx-mirage:library NAME [--unikernel U]`: a dune library in the dune root, optionally added to the
 * `~local_libs` of a unikernel's `main` call (mirage >= 4.10), the way mirage-skeleton's local-library does.
 */
import { formatFiles, generateFiles, visitNotIgnoredFiles, type Tree } from '@nx/devkit';
import { join, posix } from 'node:path';
import { addLocalLib } from '../../domain';
import { GeneratorError, parseGeneratorOptions, pluginOptions, modelOfTree, workspaceDirectory } from '../shared';
import { schema as librarySchema, type LibraryOptions } from './schema';

export async function libraryGenerator(tree: Tree, raw: LibraryOptions) {
  const options = parseGeneratorOptions(librarySchema, raw, 'library');
  const dir = workspaceDirectory(options.directory ?? `libs/${options.name}`, 'directory');
  const duneRoot = pluginOptions(tree).duneRoot;
  if (duneRoot !== '.' && dir !== duneRoot && !dir.startsWith(`${duneRoot}/`)) {
    throw new GeneratorError(`--directory ${dir} is outside the dune root "${duneRoot}": dune only sees libraries inside it`);
  }
  if (tree.exists(posix.join(dir, 'dune'))) throw new GeneratorError(`${posix.join(dir, 'dune')} already exists; choose another --directory`);
  const existing = librariesInTree(tree).find((l) => l.name === options.name);
  if (existing) throw new GeneratorError(`a dune library named "${options.name}" already exists in ${existing.file}; choose another name`);

  let target: string | undefined;
  if (options.unikernel) {
    const unikernels = modelOfTree(tree).unikernels;
    const u = unikernels.find((x) => x.name === options.unikernel);
    if (!u) {
      throw new GeneratorError(`--unikernel ${options.unikernel}: no unikernel has that name (known: ${unikernels.map((x) => x.name).sort().join(', ') || 'none'})`);
    }
    target = posix.join(u.root, 'config.ml');
    const edit = addLocalLib(tree.read(target, 'utf-8') ?? '', options.name);
    if (!edit.ok) throw new GeneratorError(`cannot add "${options.name}" to ~local_libs in ${target}: ${edit.reason}`);
    if (edit.changed) tree.write(target, edit.source);
  }
  generateFiles(tree, join(__dirname, 'files'), dir, { name: options.name });
  if (!options.skipFormat) await formatFiles(tree);
}

/** `(library (name X))` stanzas in the tree's dune files. */
function librariesInTree(tree: Tree): Array<{ name: string; file: string }> {
  const out: Array<{ name: string; file: string }> = [];
  visitNotIgnoredFiles(tree, '', (file) => {
    if (posix.basename(file) !== 'dune' || /(^|\/)(_build|duniverse|node_modules)\//.test(file)) return;
    for (const m of (tree.read(file, 'utf-8') ?? '').matchAll(/\(library\b[^]*?\(name\s+([A-Za-z0-9_]+)\)/g)) out.push({ name: m[1]!, file });
  });
  return out;
}

export default libraryGenerator;
