import { describe, expect, it } from 'vitest';
import { readConfigMl, readVersionGuard } from './reader';

const hello = `(* mirage >= 4.9.0 & < 4.12.0 *)
open Mirage

let main = main "Unikernel.Hello" (time @-> job) ~packages:[ package "duration" ]
let () = register "hello" [ main $ default_time ]
`;

describe('readConfigMl', () => {
  it('reads the skeleton hello unikernel', () => {
    const info = readConfigMl(hello);
    expect(info.isMirage).toBe(true);
    expect(info.name).toBe('hello');
    expect(info.nameLine).toBe(5);
    expect(info.versionGuard?.constraints).toEqual([
      { op: '>=', version: '4.9.0' },
      { op: '<', version: '4.12.0' },
    ]);
    expect(info.packages.map((p) => p.name)).toEqual(['duration']);
    expect(info.problems).toEqual([]);
  });

  it('skips labelled arguments before the name', () => {
    const src = 'open Mirage\nlet () = register ~src:`None ~argv:default_argv ~reporter:(default_reporter ~level:Logs.Info ()) "noop" [ main $ noop ]\n';
    expect(readConfigMl(src).name).toBe('noop');
  });

  it('accepts punned and optional labels, qualified calls and dotted or dashed names', () => {
    const src = 'let reporter = Mirage.default_reporter ()\nlet () = Mirage.register ~reporter ?sleep:None "noop-functor.v0" [ Mirage.noop ]\n';
    const info = readConfigMl(src);
    expect(info.isMirage).toBe(true);
    expect(info.name).toBe('noop-functor.v0');
  });

  it('resolves a name bound with let', () => {
    const src = 'open Mirage\nlet name = "from-binding"\nlet () = register name [ main ]\n';
    expect(readConfigMl(src).name).toBe('from-binding');
  });

  it('ignores register calls, Mirage references and packages inside comments and strings', () => {
    const src = `open Mirage
(* register "commented" [ main ] (* nested "*)" register "deeper" *) package "nope" *)
let doc = "register \\"in-string\\" [ main ]"
let quoted = {|register "quoted" [] package "nope2"|}
let tagged = {id|register "tagged" |} still inside |id}
let c = '"'
let () = register "real" [ main ]
`;
    const info = readConfigMl(src);
    expect(info.name).toBe('real');
    expect(info.problems).toEqual([]);
    expect(info.packages).toEqual([]);
  });

  it('does not take a type variable for a character literal', () => {
    const src = "open Mirage\ntype 'a t = 'a list\nlet f (x : 'a) = x\nlet () = register \"tv\" [ main ]\n";
    expect(readConfigMl(src).name).toBe('tv');
  });

  it('is not a MirageOS configuration without Mirage, and says nothing', () => {
    const info = readConfigMl('let () = print_endline "config for something else"\nlet register x = x\n');
    expect(info.isMirage).toBe(false);
    expect(info.problems).toEqual([]);
  });

  it('does not count definitions of register or other modules\' register', () => {
    const info = readConfigMl('open Mirage\nlet register x = x\nlet () = Foo.register "other" []\n');
    expect(info.isMirage).toBe(false);
    expect(info.problems.map((p) => p.message)).toEqual(['it uses Mirage but never calls `register "name" [...]`']);
  });

  it('reports two register calls with their lines', () => {
    const info = readConfigMl('open Mirage\nlet () = register "a" [ main ]\nlet () = register "b" [ main ]\n');
    expect(info.problems).toEqual([
      { line: 3, message: '`register` is called 2 times (lines 2, 3); a config.ml declares exactly one unikernel' },
    ]);
  });

  it('reports a name that is not a literal', () => {
    const info = readConfigMl('open Mirage\nlet () = register (String.concat "-" ["a"; "b"]) [ main ]\n');
    expect(info.name).toBeUndefined();
    expect(info.problems[0]?.message).toMatch(/not a string literal/);
  });

  it('reports unterminated comments and strings', () => {
    expect(readConfigMl('open Mirage\nlet () = register "x" [ main ]\n(* never closed\n').problems).toEqual([
      { line: 3, message: 'unterminated comment starting on line 3' },
    ]);
    const s = readConfigMl('open Mirage\nlet () = register "x [ main ]\n');
    expect(s.problems).toContainEqual({ line: 2, message: 'unterminated string starting on line 2' });
  });

  it('reports binary content', () => {
    const info = readConfigMl('open Mirage\u0000\u0001\u0002');
    expect(info.isMirage).toBe(false);
    expect(info.problems[0]?.message).toMatch(/NUL bytes/);
  });

  it('extracts packages with their bounds and scope', () => {
    const src = `open Mirage
let packages = [ package ~min:"0.4.0" ~max:"0.5.0" "duration"; package ~scope:\`Switch "ocaml-solo5"; package ~sublibs:["solo5"] "mirage-bootvar" ]
let main = main ~packages "Unikernel.Main" job
let () = register "pk" [ main ]
`;
    expect(readConfigMl(src).packages).toEqual([
      { name: 'duration', min: '0.4.0', max: '0.5.0', line: 2 },
      { name: 'ocaml-solo5', scope: 'switch', line: 2 },
      { name: 'mirage-bootvar', line: 2 },
    ]);
  });

  it('extracts local_libs, literal or bound', () => {
    expect(readConfigMl('open Mirage\nlet main = main ~local_libs:[ "hello"; "shared.sub" ] "U" job\nlet () = register "l" [ main ]\n').localLibs).toEqual([
      'hello',
      'shared.sub',
    ]);
    expect(readConfigMl('open Mirage\nlet libs = [ "x" ]\nlet main = main ~local_libs:libs "U" job\nlet () = register "l" [ main ]\n').localLibs).toEqual(['x']);
  });

  it('extracts directories of data devices', () => {
    const src = `open Mirage
let data = crunch "./htdocs/"
let kv = generic_kv_ro ~key:(Key.value (Key.kv_ro ())) "../web/dist"
let direct = direct_kv_ro "static"
let disk = docteur "relativize://assets"
let remote = docteur ~branch:"refs/heads/main" "https://github.com/mirage/mirage"
let commented = (* crunch "not-this" *) ()
let () = register "website" [ main $ data $ kv ]
`;
    expect(readConfigMl(src).dataDirs).toEqual([
      { device: 'crunch', path: 'htdocs', line: 2 },
      { device: 'generic_kv_ro', path: '../web/dist', line: 3 },
      { device: 'direct_kv_ro', path: 'static', line: 4 },
      { device: 'docteur', path: 'assets', line: 5 },
    ]);
  });

  it('handles escapes, CRLF line ends and a 5 MB file', () => {
    const src = 'open Mirage\r\nlet s = "a\\"b\\\\\\n\\065\\x41"\r\nlet () = register "crlf" [ main ]\r\n';
    expect(readConfigMl(src).name).toBe('crlf');
    const big = 'open Mirage\n' + '(* padding *)\nlet x = "filler"\n'.repeat(170_000) + 'let () = register "big" [ main ]\n';
    expect(big.length).toBeGreaterThan(5_000_000);
    expect(readConfigMl(big).name).toBe('big');
  });
});

describe('readVersionGuard', () => {
  it('is absent when the first line is no guard', () => {
    expect(readVersionGuard('open Mirage\n')).toBeUndefined();
    expect(readVersionGuard('(* mirage configuration of my website *)\n')).toBeUndefined();
  });

  it('reads a v-prefixed single bound', () => {
    expect(readVersionGuard('(* mirage >= v4.5.0 *)')).toEqual({ raw: '(* mirage >= v4.5.0 *)', constraints: [{ op: '>=', version: '4.5.0' }] });
  });

  it('reports a malformed guard', () => {
    expect(readVersionGuard('(* mirage >= 4.9 & banana *)')).toEqual({
      problem: 'the version guard "(* mirage >= 4.9 & banana *)" is not of the form (* mirage >= 4.9.0 & < 4.12.0 *)',
    });
  });
});
