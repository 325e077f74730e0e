/** Generated benchmark workspaces: a realistic shared library and N unikernels using it (dune.md's shape). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/**
 * A library of `mods` chained modules with `ctors` constructors each. The defaults are the project that
 * shared/research/dune.md benchmarks (12 modules of ~740 lines, about 6 s to compile on 2 cores).
 */
export function writeLibrary(root: string, dir = 'libs/shared', mods = 12, ctors = 200, funs = 60): void {
  write(root, `${dir}/dune`, '(library (name shared))\n');
  for (let i = 0; i < mods; i++) {
    const cs = Array.from({ length: ctors }, (_, k) => `C${i}_${k}`);
    const parts = [
      `type t = ${cs.map((c) => `${c} of int * string`).join(' | ')}`,
      `let to_string = function\n${cs.map((c) => `  | ${c} (n, s) -> Printf.sprintf "${c}(%d,%s)" n s`).join('\n')}`,
      `let weight = function\n${cs.map((c, k) => `  | ${c} (n, s) -> n * ${k + 1} + String.length s + ${(k * k) % 97}`).join('\n')}`,
      'module M = Map.Make (struct type nonrec t = t let compare a b = compare (weight a) (weight b) end)',
      ...Array.from({ length: funs }, (_, f) => `let f${f} l = List.fold_left (fun acc x -> match x with ${cs.slice(0, 30).map((c, k) => `${c} (n, _) when n > ${f} -> acc + n * ${k}`).join(' | ')} | x -> acc + weight x) ${f} l`),
      i > 0 ? `let chain x = M${i - 1}.chain x + 1` : 'let chain x = x',
      `let all = [${cs.map((c, k) => `${c} (${k}, "${c}")`).join('; ')}]`,
      'let checksum () = List.fold_left (fun a x -> a + weight x + f3 [x]) 0 all + chain 0',
    ];
    write(root, `${dir}/m${i}.ml`, parts.join('\n\n') + '\n');
  }
  write(root, `${dir}/shared.ml`, `${Array.from({ length: mods }, (_, i) => `module M${i} = M${i}\n`).join('')}let checksum () = ${Array.from({ length: mods }, (_, i) => `M${i}.checksum ()`).join(' + ')}\n`);
}

/** A unikernel with a network device, using the shared library (`shared: false`: a hello unikernel, nothing shared). */
export function writeUnikernel(root: string, dir: string, name: string, shared = true): void {
  const libs = shared ? ' ~local_libs:[ "shared" ]' : '';
  write(root, `${dir}/config.ml`, `(* mirage >= 4.9.0 & < 4.12.0 *)\nopen Mirage\nlet main = main${libs} "Unikernel" (network @-> job)\nlet () = register "${name}" [ main $ default_network ]\n`);
  write(root, `${dir}/unikernel.ml`, shared ? `let start _net = Printf.printf "${name} %d\\n" (Shared.checksum ())\n` : `let start _net = print_endline "${name}"\n`);
}

/** An edit that changes the unikernel's code (a new value each time), for the edit loop. */
export function editUnikernel(root: string, dir: string, name: string, edit: number): void {
  write(root, `${dir}/unikernel.ml`, `let edit = ${edit}\nlet start _net = Printf.printf "${name} %d %d\\n" (Shared.checksum ()) edit\n`);
}
