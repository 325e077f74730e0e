/**
 * The dependencies stamp of a dune root: what its `pull` task (configure what is stale, lock, pull) read and
 * left, as seen after it finished. While every listed file is unchanged, running the task again would do
 * nothing, so it is cached under the stamp's digest (a runtime input) and a warm run starts no process for it.
 */
import { CONFIGURE_STAMP, WORKSPACE_LOCK_FILE, inDir, lockFile, opamFile, type UnikernelRef } from './unikernel';
import { TOOLCHAIN_ENV } from './toolchain';
import { sha256 } from './manifest';

/** Environment variables that change what configure or lock make: the toolchain's, and mirage's extra repositories. */
export const DEPENDS_ENV = [...TOOLCHAIN_ENV, 'MIRAGE_EXTRA_REPOS'] as const;

/**
 * The stamp's identifier: a digest of the dune root's path, so that the runtime input's command line holds no
 * directory name a user chose (it runs through a shell) and each dune root has its own stamp.
 */
export function dependsStampId(duneRoot: string): string {
  return sha256(new TextEncoder().encode(duneRoot)).slice(0, 16);
}

export const isDependsStampId = (id: string) => /^[0-9a-f]{16}$/.test(id);

/** Where the stamp lives, relative to the workspace root. */
export function dependsStampPath(id: string): string {
  return `.nx-mirage/depends/${id}.stamp.json`;
}

/**
 * What a pull vendors, relative to the dune root: the dune root's lockfile into its duniverse/ (scope
 * "workspace", mirage-skeleton's way), or each unikernel's lockfile into its own duniverse/ (scope "unikernel",
 * mirage's Makefile), with the unikernel it is for.
 */
export function pullsOf<U extends UnikernelRef>(unikernels: readonly U[], scope: 'workspace' | 'unikernel'): Array<{ lock: string; duniverse: string; unikernel?: U }> {
  return scope === 'workspace'
    ? [{ lock: WORKSPACE_LOCK_FILE, duniverse: 'duniverse' }]
    : unikernels.map((u) => ({ lock: lockFile(u), duniverse: inDir(u.dir, 'duniverse'), unikernel: u }));
}

/** The marker a pull leaves in duniverse/: the sha256 of the lockfile it pulled. */
export const PULLED_FROM = '.nx-mirage-pulled-from';

/**
 * The files (relative to the dune root) whose content decides whether configure-lock-pull has work to do: each
 * unikernel's config.ml, configure stamp and opam file, each lockfile, and each duniverse/ (its entries) with
 * the marker of what was pulled into it.
 */
export function dependsStampFiles(unikernels: readonly UnikernelRef[], scope: 'workspace' | 'unikernel'): string[] {
  const pulls = pullsOf(unikernels, scope);
  return [
    ...unikernels.flatMap((u) => [inDir(u.dir, 'config.ml'), inDir(u.dir, CONFIGURE_STAMP), opamFile(u)]),
    ...pulls.flatMap((p) => [p.lock, p.duniverse, inDir(p.duniverse, PULLED_FROM)]),
  ];
}

/** What keys the pull target besides the stamp: the unikernels (directory, target, configure flags) it works on. */
export function dependsMembersDigest(unikernels: ReadonlyArray<{ root: string; target: string; configureFlags: readonly string[] }>): string {
  const lines = unikernels.map((u) => JSON.stringify([u.root, u.target, u.configureFlags])).sort();
  return sha256(new TextEncoder().encode(lines.join('\n'))).slice(0, 16);
}
