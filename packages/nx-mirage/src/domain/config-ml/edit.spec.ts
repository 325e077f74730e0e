import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLocalLib, ocamlString } from './edit';
import { readConfigMl } from './reader';

describe('addLocalLib', () => {
  it('adds ~local_libs to a main call without one', () => {
    const r = addLocalLib('open Mirage\nlet main = main "Unikernel" job\nlet () = register "x" [ main ]\n', 'lib');
    expect(r).toEqual({ ok: true, changed: true, source: 'open Mirage\nlet main = main ~local_libs:[ "lib" ] "Unikernel" job\nlet () = register "x" [ main ]\n' });
  });

  it('extends an existing list once', () => {
    const src = 'open Mirage\nlet main = main ~local_libs:[ "a" ] "U" job\nlet () = register "x" [ main ]\n';
    const r = addLocalLib(src, 'b');
    expect(r.ok && readConfigMl(r.source).localLibs).toEqual(['a', 'b']);
    expect(addLocalLib(r.ok ? r.source : '', 'b')).toMatchObject({ ok: true, changed: false });
    const empty = addLocalLib('open Mirage\nlet main = main ~local_libs:[] "U" job\nlet () = register "x" [ main ]\n', 'c');
    expect(empty.ok && readConfigMl(empty.source).localLibs).toEqual(['c']);
  });

  it('refuses what it cannot edit safely', () => {
    expect(addLocalLib('open Mirage\nlet () = register "x" []\n', 'a')).toEqual({ ok: false, reason: 'it has no `main "Module" ...` call' });
    expect(addLocalLib('open Mirage\nlet a = main "A" job\nlet b = main "B" job\n', 'a')).toMatchObject({ ok: false });
  });
});

describe('ocamlString', () => {
  const values = ['R&D/dist', 'x" *) let () = exit 1 (*', 'back\\slash\\"', 'tab\tnew\nline\u0001\u007f', 'ünï "côdé"'];

  it('is read back by the OCaml compiler as the same bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocaml-string-'));
    try {
      const file = join(dir, 'print.ml');
      writeFileSync(file, values.map((v) => `let () = print_string ${ocamlString(v)}; print_char '\\000'\n`).join(''));
      const out = execFileSync('ocaml', [file], { encoding: 'utf-8' });
      expect(out.split('\0').slice(0, -1)).toEqual(values);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is one string token for the config.ml reader', () => {
    for (const v of values) {
      const info = readConfigMl(`open Mirage\nlet main = main "Unikernel" job\nlet () = register ${ocamlString(v)} [ main ]\n`);
      expect(info.problems).toEqual([]);
      expect(info.name).toBe(v);
    }
  });
});
