import type { ExecutorContext } from '@nx/devkit';
import { isMirageTarget, type UnikernelRef } from '../domain';
import { BUILD_EXECUTOR } from '../plugins/workspace';
import { locateUnikernel, type LocatedUnikernel } from './shared';

/** Every unikernel of the workspace in `duneRoot`, with the target of its build (for the shared lock). */
export function unikernelsInRoot(context: ExecutorContext, duneRoot: string): LocatedUnikernel[] {
  const out: LocatedUnikernel[] = [];
  for (const [name, project] of Object.entries(context.projectsConfigurations?.projects ?? {})) {
    const build = Object.values(project.targets ?? {}).find((t) => t.executor === BUILD_EXECUTOR);
    const o = build?.options as { name?: string; target?: string; duneRoot?: string } | undefined;
    if (!o?.name || !o.target || !isMirageTarget(o.target) || (o.duneRoot ?? '.') !== duneRoot) continue;
    out.push(locateUnikernel(context, name, { name: o.name, target: o.target as UnikernelRef['target'], duneRoot }));
  }
  return out;
}
