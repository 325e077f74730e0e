import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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

  path(relative: string): string {
    return join(this.root, relative);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
