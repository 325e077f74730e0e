import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDuneRootLock } from './lock';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'nx-mirage-lock-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Another process that takes the dune root lock and holds it until told (a file appears), then marks its release. */
function holder() {
  const script = `
    import('${join(__dirname, 'lock.ts')}').then((l) => l.withDuneRootLock(process.argv[1], async () => {
      console.log('locked');
      while (!require('node:fs').existsSync(process.argv[1] + '/go')) await new Promise((r) => setTimeout(r, 20));
      require('node:fs').writeFileSync(process.argv[1] + '/released', '');
    }));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, root], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
  return { child, locked };
}

describe('the dune root lock', () => {
  it('waits for an owner that is running, and says so once', async () => {
    const { child, locked } = holder();
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await locked;
    const onWait = vi.fn();
    const waiting = withDuneRootLock(root, async () => existsSync(join(root, 'released')), onWait);
    setTimeout(() => writeFileSync(join(root, 'go'), ''), 200);
    expect(await waiting).toBe(true);
    expect(onWait).toHaveBeenCalledTimes(1);
    await exited;
  });

  it('takes over at once from an owner that was killed holding it', async () => {
    const { child, locked } = holder();
    await locked;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const onWait = vi.fn();
    expect(await withDuneRootLock(root, async () => 'ran', onWait)).toBe('ran');
    // It never waited: the owner's process is gone, so the lock was abandoned, not busy.
    expect(onWait).not.toHaveBeenCalled();
    expect(existsSync(join(root, 'released'))).toBe(false);
  });
});
