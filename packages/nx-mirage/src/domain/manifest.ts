/**
 * The manifest nx-mirage writes beside each artifact (`dist/NAME.ext.manifest.json`): what the artifact is,
 * what it needs to run, and what made it. Deterministic for identical inputs, so cached copies are identical.
 */
import { createHash } from 'node:crypto';
import { targetInfo, type MirageTarget, type TargetAbi } from './targets';
import type { Solo5Device, Solo5Notes } from './solo5-elf';

export const MANIFEST_VERSION = 1;

export interface ArtifactManifest {
  manifestVersion: number;
  unikernel: string;
  target: MirageTarget;
  artifact: string;
  abi: TargetAbi;
  devices: Solo5Device[];
  size: number;
  sha256: string;
  toolchain: Record<string, unknown>;
}

export function manifestFileName(artifact: string): string {
  return `${artifact}.manifest.json`;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const HOST_LINKED = 'so it was not linked by the Solo5 toolchain (the solo5 findlib toolchain may be undefined, or point at the host compiler)';

/**
 * Checks that the artifact is what a Solo5 tender loads, for the ABI its target links against: a static
 * executable (ET_EXEC) whose PT_NOTE segments start with Solo5's ABI and manifest notes. A Solo5 build linked
 * by the host compiler (an undefined or shadowed cross toolchain) is a position-independent executable without
 * them. Returns the problem, if any, in the words of the tender where it has some.
 */
export function abiProblem(target: MirageTarget, notes: Solo5Notes): string | undefined {
  const abi = targetInfo(target).abi;
  if (abi.kind !== 'solo5') return undefined;
  if (notes.elfType !== undefined && notes.elfType !== 'exec') {
    const what = notes.elfType === 'dyn' ? 'a position-independent executable (ELF type DYN)' : 'not an ELF executable';
    return `it is ${what}, which the Solo5 tenders refuse ("invalid or unsupported executable"), ${HOST_LINKED}`;
  }
  if (!notes.abi) {
    return `it has no Solo5 ABI note first in a PT_NOTE segment (a tender would say "No Solo5 ABI information found in executable"), ${HOST_LINKED}`;
  }
  if (!notes.manifest) return 'it has no Solo5 manifest note first in a PT_NOTE segment (a tender would say "No Solo5 manifest found in executable")';
  if (notes.abi.target !== abi.target) return `its Solo5 ABI is ${notes.abi.target}, not ${abi.target}`;
  if (abi.version !== undefined && notes.abi.version !== abi.version) {
    return `its Solo5 ${abi.target} ABI version is ${notes.abi.version}; nx-mirage expects ${abi.version}`;
  }
  return undefined;
}

export function buildManifest(input: {
  name: string;
  target: MirageTarget;
  artifact: string;
  bytes: Uint8Array;
  notes: Solo5Notes;
  toolchain: Record<string, unknown>;
}): ArtifactManifest {
  const info = targetInfo(input.target);
  const abi: TargetAbi =
    info.abi.kind === 'solo5' && input.notes.abi
      ? { kind: 'solo5', target: info.abi.target, version: input.notes.abi.version }
      : info.abi;
  return {
    manifestVersion: MANIFEST_VERSION,
    unikernel: input.name,
    target: input.target,
    artifact: input.artifact,
    abi,
    devices: input.notes.manifest?.devices ?? [],
    size: input.bytes.length,
    sha256: sha256(input.bytes),
    toolchain: input.toolchain,
  };
}
