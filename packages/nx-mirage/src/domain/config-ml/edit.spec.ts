import { describe, expect, it } from 'vitest';
import { addLocalLib } from './edit';
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
