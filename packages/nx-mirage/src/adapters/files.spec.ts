import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShortWriteError, copyFileAtomic, writeDirectoryFiles, writeFileVerified, type WriteIo } from './files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nx-mirage-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What write-file-atomic does on a full disk: a write cut short, reported as done. */
const shortWrites: WriteIo = {
  async write(path, bytes, mode) {
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)), { mode });
  },
};

describe('verified atomic writes', () => {
  it('refuse a write that reached the disk cut short, and leave the previous file and no temporary one', async () => {
    writeFileSync(join(dir, 'a.hvt'), 'previous artifact');
    writeFileSync(join(dir, 'src'), Buffer.alloc(4096, 7));
    const error = await copyFileAtomic(join(dir, 'src'), join(dir, 'a.hvt'), shortWrites).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShortWriteError);
    expect((error as Error).message).toBe('only 2048 of 4096 bytes reached the disk (full?)');
    expect(readFileSync(join(dir, 'a.hvt'), 'utf8')).toBe('previous artifact');
    expect(readdirSync(dir).sort()).toEqual(['a.hvt', 'src']);
  });

  it('fail when the file system refuses the bytes (a file size limit), leaving the previous file', () => {
    // A real short write: the process may write at most 1 KiB per file (RLIMIT_FSIZE), as a nearly full disk allows.
    writeFileSync(join(dir, 'a.hvt'), 'previous artifact');
    writeFileSync(join(dir, 'src'), Buffer.alloc(64 * 1024, 7));
    const script = `import('${join(__dirname, 'files.ts')}').then((f) => f.copyFileAtomic(process.argv[1], process.argv[2])).then(() => console.log('copied'), (e) => console.log('failed', e.code))`;
    const r = spawnSync('sh', ['-c', 'ulimit -f 1; exec "$0" --import tsx -e "$1" "$2" "$3"', process.execPath, script, join(dir, 'src'), join(dir, 'a.hvt')], {
      encoding: 'utf8',
      cwd: join(__dirname, '..', '..'),
    });
    expect(r.stdout.trim()).toBe('failed EFBIG');
    expect(readFileSync(join(dir, 'a.hvt'), 'utf8')).toBe('previous artifact');
    expect(readdirSync(dir).sort()).toEqual(['a.hvt', 'src']);
  });

  it('replace a link at the destination instead of writing through it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'nx-mirage-outside-'));
    try {
      writeFileSync(join(outside, 'victim'), 'not yours');
      symlinkSync(join(outside, 'victim'), join(dir, 'a.manifest.json'));
      await writeFileVerified(join(dir, 'a.manifest.json'), Buffer.from('{}\n'));
      expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('not yours');
      expect(lstatSync(join(dir, 'a.manifest.json')).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(dir, 'a.manifest.json'), 'utf8')).toBe('{}\n');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('a directory of files', () => {
  it('holds exactly the files given: new ones written, changed ones replaced, the rest removed', async () => {
    const versions = join(dir, 'versions');
    await writeDirectoryFiles(versions, { source: 'path\n', dune: '2.9.3\n', 'cross-solo5': '4.13.1\n' });
    expect(readdirSync(versions).sort()).toEqual(['cross-solo5', 'dune', 'source']);
    await writeDirectoryFiles(versions, { source: 'path\n', dune: '3.20.2\n' });
    expect(readdirSync(versions).sort()).toEqual(['dune', 'source']);
    expect(readFileSync(join(versions, 'dune'), 'utf8')).toBe('3.20.2\n');
  });
});
