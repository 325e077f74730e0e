/**
 * The unikernels of a dune root that workspace-wide steps (lock, install-switch) work on: each configured
 * first where its configuration is missing or stale. A unikernel whose configure fails is reported and left
 * out, unless an earlier configuration left its opam file, which then stays in use: one broken config.ml
 * never stops the others.
 */
import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { inDir, opamFile } from '../domain';
import { exists } from '../adapters/files';
import { configureInLockedRoot } from './configure/configure-unikernels';
import { duneRootView, duniverseDirs, located } from './model';
import type { LocatedUnikernel } from './shared';

export interface ConfiguredMembers {
  /** Unikernels with an opam file to work from. */
  members: LocatedUnikernel[];
  /** One message per unikernel that could not be configured, naming its config.ml, mirage's message and the command to see it. */
  problems: string[];
}

/** The last lines of a tool's output, for a one-paragraph message. */
function tail(output: string, lines = 8): string {
  const all = output.trimEnd().split('\n');
  return (all.length > lines ? ['...', ...all.slice(-lines)] : all).map((l) => `    ${l}`).join('\n');
}

/** With the dune root lock held and its root files in place: configures what needs it and returns who can be locked. */
export async function configuredMembers(context: ExecutorContext, duneRoot: string, root: string): Promise<ConfiguredMembers> {
  const view = duneRootView(context, duneRoot);
  const requests = view.unikernels.map((u) => ({ id: u.project, unikernel: located(context, duneRoot, u), duneRoot, flags: u.configureFlags }));
  const outcomes = await configureInLockedRoot(root, requests, true, duniverseDirs(view));
  const result: ConfiguredMembers = { members: [], problems: [] };
  for (const r of requests) {
    const outcome = outcomes.get(r.id)!;
    const u = r.unikernel;
    if (outcome.success) {
      result.members.push(u);
      continue;
    }
    const config = inDir(u.dir, 'config.ml');
    const earlier = await exists(join(root, opamFile(u)));
    if (earlier) result.members.push(u);
    result.problems.push(
      `${config} could not be configured${earlier ? '; its opam file from an earlier configuration stays in use' : ', so it is left out'}. ` +
        `nx run ${u.project}:configure shows why:\n${tail(outcome.output)}`,
    );
  }
  return result;
}
