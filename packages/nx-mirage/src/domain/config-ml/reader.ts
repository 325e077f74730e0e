/**
 * Reads what nx-mirage needs from a MirageOS `config.ml` without running OCaml: whether it is a MirageOS
 * configuration, the unikernel name given to `register`, the first-line version guard, the packages,
 * `local_libs`, and the directories that data devices (crunch, key-value stores, docteur) embed.
 *
 * Only code counts: text in comments and string literals is never read as code. A file that is not a
 * MirageOS configuration is a normal outcome (`isMirage: false`, no problems); a file that looks like one
 * but cannot be read reports `problems`.
 */
import { lexOcaml, type Token } from './lexer';
import type { ConstraintOperator, VersionConstraint } from '../version';

export interface PackageRef {
  name: string;
  min?: string;
  max?: string;
  /** `~scope:`Switch` packages are switch tools, the rest are vendored by opam-monorepo. */
  scope?: 'switch' | 'monorepo';
  line: number;
}

export type DataDevice = 'crunch' | 'generic_kv_ro' | 'direct_kv_ro' | 'docteur';

export interface DataDirRef {
  device: DataDevice;
  /** Directory as written, relative to the unikernel directory unless absolute; `./` and trailing `/` dropped. */
  path: string;
  line: number;
}

export interface VersionGuard {
  raw: string;
  constraints: VersionConstraint[];
}

export interface ConfigProblem {
  line?: number;
  message: string;
}

export interface MirageConfigInfo {
  /** The file refers to the `Mirage` module and calls `register`. */
  isMirage: boolean;
  /** The unikernel name: the string given to `register`. */
  name?: string;
  nameLine?: number;
  versionGuard?: VersionGuard;
  packages: PackageRef[];
  localLibs: string[];
  dataDirs: DataDirRef[];
  /** Why a file that looks like a MirageOS configuration could not be read fully. */
  problems: ConfigProblem[];
}

const DATA_DEVICES: readonly DataDevice[] = ['crunch', 'generic_kv_ro', 'direct_kv_ro', 'docteur'];
const DEFINING_KEYWORDS = new Set(['let', 'and', 'val', 'external', 'method', 'rec', 'type', 'fun', 'function']);
const CONFIG_MODULES = new Set(['Mirage', 'Functoria']);
const OPENING: Record<string, string> = { '(': ')', '[': ']', '{': '}', begin: 'end' };

export function readConfigMl(source: string): MirageConfigInfo {
  const info: MirageConfigInfo = { isMirage: false, packages: [], localLibs: [], dataDirs: [], problems: [] };
  if (source.includes('\u0000')) {
    info.problems.push({ message: 'the file contains NUL bytes: it is not OCaml source text' });
    return info;
  }
  const guard = readVersionGuard(source);
  if (guard && 'problem' in guard) info.problems.push({ line: 1, message: guard.problem });
  else if (guard) info.versionGuard = guard;

  const { tokens, errors } = lexOcaml(source);
  const reader = new TokenReader(tokens);
  const usesMirage = tokens.some((t) => t.kind === 'uident' && t.value === 'Mirage');
  const registers = reader.calls('register');
  info.isMirage = usesMirage && registers.length > 0;

  if (!usesMirage) {
    // Not a MirageOS configuration. Lexical errors are only worth reporting for files that are one.
    return info;
  }
  for (const e of errors) info.problems.push({ line: e.line, message: e.message });
  if (registers.length === 0) {
    info.problems.push({ message: 'it uses Mirage but never calls `register "name" [...]`' });
  } else if (registers.length > 1) {
    info.problems.push({
      line: tokens[registers[1]!]!.line,
      message: `\`register\` is called ${registers.length} times (lines ${registers.map((i) => tokens[i]!.line).join(', ')}); a config.ml declares exactly one unikernel`,
    });
  }
  const bindings = reader.bindings();

  const first = registers[0];
  if (first !== undefined) {
    const call = reader.parseCall(first + 1);
    const name = call.positional === undefined ? undefined : reader.stringValue(call.positional, bindings);
    if (typeof name === 'string' && name.length > 0) {
      info.name = name;
      info.nameLine = tokens[first]!.line;
    } else {
      info.problems.push({
        line: tokens[first]!.line,
        message: 'the unikernel name given to `register` is not a string literal (or a `let` bound to one)',
      });
    }
  }

  for (const i of reader.calls('package')) {
    const call = reader.parseCall(i + 1);
    const name = call.positional === undefined ? undefined : reader.stringValue(call.positional, bindings);
    if (typeof name !== 'string') continue;
    const ref: PackageRef = { name, line: tokens[i]!.line };
    const min = reader.labelString(call.labels.get('min'), bindings);
    const max = reader.labelString(call.labels.get('max'), bindings);
    const scopeAt = call.labels.get('scope');
    if (min) ref.min = min;
    if (max) ref.max = max;
    if (scopeAt !== undefined && tokens[scopeAt]?.kind === 'variant') {
      ref.scope = tokens[scopeAt]!.value === 'Switch' ? 'switch' : 'monorepo';
    }
    info.packages.push(ref);
  }

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'label' && t.value === 'local_libs' && t.colon) {
      const value = reader.stringValue(i + 1, bindings);
      for (const lib of Array.isArray(value) ? value : typeof value === 'string' ? [value] : []) {
        if (!info.localLibs.includes(lib)) info.localLibs.push(lib);
      }
    }
  }

  for (const device of DATA_DEVICES) {
    for (const i of reader.calls(device)) {
      const call = reader.parseCall(i + 1);
      const arg = call.positional === undefined ? undefined : reader.stringValue(call.positional, bindings);
      if (typeof arg !== 'string') continue;
      const path = device === 'docteur' ? docteurDirectory(arg) : normalizeDir(arg);
      if (path !== undefined) info.dataDirs.push({ device, path, line: tokens[i]!.line });
    }
  }
  return info;
}

/** Reads the optional first-line guard `(* mirage >= 4.9.0 & < 4.12.0 *)` that the mirage tool checks. */
export function readVersionGuard(source: string): VersionGuard | { problem: string } | undefined {
  const firstLine = source.split('\n', 1)[0]!.trim();
  const m = /^\(\*\s*mirage\b(.*)\*\)$/.exec(firstLine);
  if (!m) return undefined;
  const body = m[1]!.trim();
  // A first-line comment that merely mentions mirage is prose, not a guard.
  if (!/^[<>=!]/.test(body)) return undefined;
  const constraints: VersionConstraint[] = [];
  for (const part of body.split('&')) {
    const c = /^\s*(>=|<=|!=|>|<|=)\s*v?(\d[0-9A-Za-z.~+-]*)\s*$/.exec(part);
    if (!c) {
      return { problem: `the version guard ${JSON.stringify(firstLine)} is not of the form (* mirage >= 4.9.0 & < 4.12.0 *)` };
    }
    constraints.push({ op: c[1] as ConstraintOperator, version: c[2]! });
  }
  return { raw: firstLine, constraints };
}

function normalizeDir(dir: string): string | undefined {
  let d = dir.trim();
  if (d === '') return undefined;
  while (d.startsWith('./')) d = d.slice(2);
  d = d.replace(/\/+$/, '');
  return d === '' ? '.' : d;
}

/** docteur takes a remote: `relativize://dir` and `file://dir` name a local directory, other schemes do not. */
function docteurDirectory(remote: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(remote);
  if (!m) return normalizeDir(remote);
  if (m[1] === 'relativize' || m[1] === 'file') return normalizeDir(m[2]!);
  return undefined;
}

interface CallShape {
  /** Token index of each labelled argument's value (for punned labels, the label itself). */
  labels: Map<string, number>;
  /** Token index of the first positional argument. */
  positional?: number;
}

type Bound = string | string[];

class TokenReader {
  constructor(private readonly tokens: Token[]) {}

  /**
   * Indexes of calls of `fn`, unqualified or qualified by Mirage/Functoria, that are applications rather than
   * definitions (`let register = ...`) or other modules' functions (`Foo.register`).
   */
  calls(fn: string): number[] {
    const out: number[] = [];
    const t = this.tokens;
    for (let i = 0; i < t.length; i++) {
      const tok = t[i]!;
      if (tok.kind !== 'lident' || tok.value !== fn) continue;
      const prev = t[i - 1];
      if (prev?.kind === 'lident' && DEFINING_KEYWORDS.has(prev.value)) continue;
      if (prev?.kind === 'punct' && prev.value === '.') {
        const qualifier = t[i - 2];
        if (!(qualifier?.kind === 'uident' && CONFIG_MODULES.has(qualifier.value))) continue;
      }
      const next = t[i + 1];
      if (next?.kind === 'punct' && (next.value === '=' || next.value === ':')) continue;
      out.push(i);
    }
    return out;
  }

  /** Reads labelled arguments from `start` up to the first positional argument. */
  parseCall(start: number): CallShape {
    const labels = new Map<string, number>();
    let i = start;
    while (i < this.tokens.length) {
      const t = this.tokens[i]!;
      if (t.kind === 'label') {
        if (t.colon) {
          labels.set(t.value, i + 1);
          const end = this.skipAtom(i + 1);
          if (end < 0) return { labels };
          i = end;
        } else {
          labels.set(t.value, i);
          i++;
        }
        continue;
      }
      return this.skipAtom(i) < 0 ? { labels } : { labels, positional: i };
    }
    return { labels };
  }

  /** Index just after the simple expression at `i`, or -1 when `i` does not start an argument. */
  skipAtom(i: number): number {
    const t = this.tokens[i];
    if (!t) return -1;
    switch (t.kind) {
      case 'string':
      case 'char':
      case 'number':
      case 'variant':
        return i + 1;
      case 'lident':
        if (t.value === 'begin') return this.skipGroup(i);
        if (DEFINING_KEYWORDS.has(t.value) || ['in', 'then', 'else', 'do', 'done', 'end', 'with'].includes(t.value)) return -1;
        return i + 1;
      case 'uident': {
        // Module path: A.B.c, A.(expr), or a constructor.
        let j = i + 1;
        while (this.tokens[j]?.value === '.') {
          const n = this.tokens[j + 1];
          if (n?.kind === 'uident') j += 2;
          else if (n?.kind === 'lident') return j + 2;
          else if (n?.kind === 'punct' && n.value in OPENING) return this.skipGroup(j + 1);
          else return j;
        }
        return j;
      }
      case 'punct':
        if (t.value in OPENING) return this.skipGroup(i);
        return -1;
      default:
        return -1;
    }
  }

  private skipGroup(i: number): number {
    let depth = 0;
    for (let j = i; j < this.tokens.length; j++) {
      const v = this.tokens[j]!;
      if ((v.kind === 'punct' || v.kind === 'lident') && v.value in OPENING) depth++;
      else if ((v.kind === 'punct' && (v.value === ')' || v.value === ']' || v.value === '}')) || (v.kind === 'lident' && v.value === 'end')) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return this.tokens.length;
  }

  /** A string, a list of strings, a parenthesised one of those, or a name `let`-bound to one. */
  stringValue(i: number, bindings: Map<string, Bound>): Bound | undefined {
    const t = this.tokens[i];
    if (!t) return undefined;
    if (t.kind === 'string') return t.value;
    if (t.kind === 'lident') return bindings.get(t.value);
    if (t.kind === 'punct' && t.value === '(') {
      const inner = this.stringValue(i + 1, bindings);
      return this.tokens[i + 2]?.value === ')' ? inner : undefined;
    }
    if (t.kind === 'punct' && t.value === '[') return this.stringList(i);
    return undefined;
  }

  labelString(at: number | undefined, bindings: Map<string, Bound>): string | undefined {
    if (at === undefined) return undefined;
    const v = this.stringValue(at, bindings);
    return typeof v === 'string' ? v : undefined;
  }

  private stringList(i: number): string[] | undefined {
    const out: string[] = [];
    let j = i + 1;
    for (;;) {
      const t = this.tokens[j];
      if (!t) return undefined;
      if (t.kind === 'punct' && t.value === ']') return out;
      if (t.kind !== 'string') return undefined;
      out.push(t.value);
      const sep = this.tokens[j + 1];
      if (sep?.kind === 'punct' && sep.value === ';') j += 2;
      else j += 1;
    }
  }

  /** `let name = "text"` and `let name = [ "a"; "b" ]` bindings, for names passed instead of literals. */
  bindings(): Map<string, Bound> {
    const out = new Map<string, Bound>();
    const t = this.tokens;
    for (let i = 0; i + 3 < t.length; i++) {
      if (t[i]!.kind !== 'lident' || (t[i]!.value !== 'let' && t[i]!.value !== 'and')) continue;
      const name = t[i + 1]!;
      if (name.kind !== 'lident' || t[i + 2]!.value !== '=') continue;
      const value = this.stringValue(i + 3, new Map());
      const after = t[i + 3]!.kind === 'string' ? t[i + 4] : undefined;
      // `let name = "a" ^ "b"` is an expression, not a literal binding.
      if (after?.kind === 'punct' && after.value !== ';;' && after.value !== ';') continue;
      if (value !== undefined) out.set(name.value, value);
    }
    return out;
  }
}
