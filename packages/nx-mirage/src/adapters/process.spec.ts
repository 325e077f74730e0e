import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { gitRepositoryWithoutCommit } from './process';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'nx-mirage-git-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const git = (...args: string[]) =>
  execa('git', args, { cwd: root, env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

describe('gitRepositoryWithoutCommit (real git)', () => {
  it('is false outside any repository', async () => {
    // git stops looking for a repository at the temporary directory, whatever holds it.
    const ceiling = process.env['GIT_CEILING_DIRECTORIES'];
    process.env['GIT_CEILING_DIRECTORIES'] = root;
    try {
      expect(await gitRepositoryWithoutCommit(root)).toBe(false);
    } finally {
      if (ceiling === undefined) delete process.env['GIT_CEILING_DIRECTORIES'];
      else process.env['GIT_CEILING_DIRECTORIES'] = ceiling;
    }
  });

  it('is true in a repository with no commit yet, and false once it has one', async () => {
    await git('init', '-q');
    expect(await gitRepositoryWithoutCommit(root)).toBe(true);
    await git('commit', '-q', '--allow-empty', '-m', 'first');
    expect(await gitRepositoryWithoutCommit(root)).toBe(false);
  });
});
