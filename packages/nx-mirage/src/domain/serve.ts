/**
 * The unikernel development loop (`serve`): which target runs on this machine, and which directories hold
 * what a rebuild needs (the unikernel, the local libraries it uses, the directories it embeds).
 */
import { posix } from 'node:path';
import type { DuneRootModel, UnikernelModel } from './model';
import { targetInfo, type MirageTarget } from './targets';
import { isTemporaryName } from './temporary';

export interface HostAbilities {
  /** Whether a program is on PATH. */
  onPath: (program: string) => boolean;
  /** Whether /dev/kvm can be opened for reading and writing (solo5-hvt needs it). */
  kvm: boolean;
}

/**
 * The target serve builds and runs: the one asked for; else the unikernel's own where this machine runs it
 * (unix and macosx always, hvt with solo5-hvt and KVM, spt with solo5-spt); else unix.
 */
export function serveTarget(own: MirageTarget, host: HostAbilities, requested?: MirageTarget): { target: MirageTarget; reason: string } {
  if (requested) return { target: requested, reason: 'the target asked for' };
  if (own === 'unix' || own === 'macosx') return { target: own, reason: 'its own target' };
  const program = targetInfo(own).runner?.program;
  if ((own === 'hvt' && program && host.onPath(program) && host.kvm) || (own === 'spt' && program && host.onPath(program))) {
    return { target: own, reason: `its own target (${program} is here)` };
  }
  const why = own === 'hvt' ? (host.onPath('solo5-hvt') ? '/dev/kvm cannot be opened' : 'solo5-hvt is not on PATH') : own === 'spt' ? 'solo5-spt is not on PATH' : `this machine has no program that runs ${own}`;
  return { target: 'unix', reason: `unix, since ${why}` };
}

/**
 * Workspace-relative directories a change in which needs a rebuild: the unikernel's, those of the library
 * projects it reaches through the model's edges, and the directories its data devices embed.
 */
export function watchedDirectories(model: Pick<DuneRootModel, 'edges' | 'libraries' | 'dataDirs'>, u: Pick<UnikernelModel, 'project' | 'name' | 'root'>): string[] {
  const libraryRoots = new Map(model.libraries.map((l) => [l.project, l.root]));
  const seen = new Set<string>([u.project]);
  const queue = [u.project];
  const dirs = new Set<string>([u.root]);
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const e of model.edges) {
      if (e.source !== from || seen.has(e.target) || !libraryRoots.has(e.target)) continue;
      seen.add(e.target);
      queue.push(e.target);
      dirs.add(libraryRoots.get(e.target)!);
    }
  }
  for (const d of model.dataDirs) if (d.unikernel === u.name) dirs.add(d.dir);
  // A directory inside another watched one adds nothing.
  const sorted = [...dirs].sort();
  return sorted.filter((d) => !sorted.some((o) => o !== d && (o === '.' || d.startsWith(`${o}/`))));
}

/** What mirage configure and the build write into a unikernel directory (relative to it): never a reason to rebuild. */
const GENERATED = new Set(['dune', 'dune.build', 'dune.config', 'dist', 'mirage', '_build', 'duniverse', 'Makefile', '.merlin', 'node_modules', '.nx']);

/** Whether a change at `path` (workspace-relative) is one serve reacts to, for a unikernel in `unikernelRoot`. */
export function isSourceChange(path: string, unikernelRoot: string): boolean {
  const parts = path.split('/');
  if (parts.some((p) => p === '_build' || p === 'duniverse' || p === 'node_modules' || p === '.git' || p === '.nx' || p.startsWith('.#') || p.endsWith('~'))) return false;
  // nx-mirage's own files on their way (a dune file written beside the unikernel at its first build).
  if (isTemporaryName(parts.at(-1)!)) return false;
  const rel = unikernelRoot === '.' ? path : posix.relative(unikernelRoot, path);
  if (!rel.startsWith('..') && GENERATED.has(rel.split('/')[0]!)) return false;
  return true;
}

/** Whether the change needs mirage configure again before the rebuild. */
export function needsConfigure(path: string, unikernelRoot: string): boolean {
  return path === (unikernelRoot === '.' ? 'config.ml' : `${unikernelRoot}/config.ml`);
}
