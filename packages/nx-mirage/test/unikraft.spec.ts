/**
 * Unikraft: mirage's rules build every Unikraft unikernel in a context named `unikraft`, whose flags choose the
 * backend. A qemu and a firecracker unikernel in one dune root are each linked for their own backend: the dune
 * root's `unikraft` context links qemu, and firecracker builds in a build directory of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskGraph } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import configureExecutor from '../src/executors/configure/executor';
import buildBatchExecutor from '../src/executors/build/batch';
import cleanExecutor from '../src/executors/clean/executor';
import { MirageWorkspace, writeUnikernel } from './mirage-workspace';

let m: MirageWorkspace;

async function run(executor: 'configure' | 'clean', project: string) {
  const ctx = await m.context(project);
  const options = ctx.projectsConfigurations.projects[project]!.targets![executor]!.options as never;
  return (executor === 'configure' ? configureExecutor : cleanExecutor)(options, ctx);
}

beforeAll(async () => {
  m = new MirageWorkspace({ plugins: [{ plugin: 'nx-mirage', options: { target: 'unikraft-qemu', monorepo: false, unikernels: { fc: { target: 'unikraft-firecracker' } } } }] });
  m.activate();
  writeUnikernel(m.ws, 'apps/qm', 'qm');
  writeUnikernel(m.ws, 'apps/fc', 'fc');
  for (const p of ['qm', 'fc']) expect(await run('configure', p)).toEqual({ success: true });
});

afterAll(() => m?.cleanup());

describe('Unikraft backends', () => {
  it('links a qemu and a firecracker unikernel each for its own backend', async () => {
    const ctx = await m.context();
    const tasks: TaskGraph['tasks'] = {};
    const inputs: Record<string, unknown> = {};
    for (const p of ['qm', 'fc']) {
      tasks[`${p}:build`] = { id: `${p}:build`, target: { project: p, target: 'build' }, overrides: {}, outputs: [], parallelism: true } as never;
      inputs[`${p}:build`] = ctx.projectsConfigurations.projects[p]!.targets!['build']!.options;
    }
    const results = await buildBatchExecutor({ roots: Object.keys(tasks), tasks, dependencies: {}, continuousDependencies: {} } as TaskGraph, inputs as never, {}, ctx);
    expect(Object.values(results).map((r) => r.success)).toEqual([true, true]);

    expect(m.ws.read('dune-workspace')).toContain('-z unikraft-backend=qemu');
    const runs = m.duneRuns().map((r) => r.args);
    expect(runs.find((a) => a.includes('_build/unikraft/apps/qm/qm.qemu'))).not.toContain('--build-dir');
    expect(runs.find((a) => a.includes('apps/fc/fc.fc'))).toContain('--build-dir _build.unikraft-firecracker');

    const linkedFor = (file: string) => /nx-mirage-standin-unikraft-backend=(\w+)/.exec(readFileSync(m.ws.path(file), 'latin1'))?.[1];
    expect(linkedFor('apps/qm/dist/qm.qemu')).toBe('qemu');
    expect(linkedFor('apps/fc/dist/fc.fc')).toBe('firecracker');
    expect(JSON.parse(m.ws.read('apps/fc/dist/fc.fc.manifest.json')).abi).toEqual({ kind: 'unikraft', backend: 'firecracker' });
  });

  it('cleans a firecracker unikernel from its own build directory', async () => {
    expect(existsSync(m.ws.path('_build.unikraft-firecracker/unikraft/apps/fc'))).toBe(true);
    expect(await run('clean', 'fc')).toEqual({ success: true });
    expect(existsSync(m.ws.path('_build.unikraft-firecracker/unikraft/apps/fc'))).toBe(false);
    expect(existsSync(m.ws.path('apps/fc/dist/fc.fc'))).toBe(false);
    expect(existsSync(m.ws.path('_build/unikraft/apps/qm/qm.qemu'))).toBe(true);
  });
});
