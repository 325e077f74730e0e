import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real temporary directory to write workspace files into; removed by `cleanup()`. */
export class TempWorkspace {
  readonly root: string;

  constructor(prefix = 'nx-mirage-') {
    this.root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  }

  write(relative: string, content: string | Buffer, mode?: number): string {
    const path = join(this.root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (mode !== undefined) chmodSync(path, mode);
    return path;
  }

  read(relative: string): string {
    return readFileSync(join(this.root, relative), 'utf8');
  }

  remove(relative: string): void {
    rmSync(join(this.root, relative), { recursive: true, force: true });
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
