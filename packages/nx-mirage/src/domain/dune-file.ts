/**
 * Reads dune files (dune's s-expression syntax: `;` line comments, `#| |#` block comments, `#;` datum
 * comments, quoted strings) and extracts what the project graph needs: libraries with their private and
 * public names and the libraries they use, executables and tests with theirs, and whether the directory has
 * tests to run.
 */

export type Sexp = string | Sexp[];

export class DuneSyntaxError extends Error {
  override name = 'DuneSyntaxError';
}

export function parseSexps(text: string): Sexp[] {
  let pos = 0;
  const n = text.length;

  const skipSpaceAndComments = (): void => {
    for (;;) {
      while (pos < n && /\s/.test(text[pos]!)) pos++;
      if (text[pos] === ';') {
        while (pos < n && text[pos] !== '\n') pos++;
      } else if (text.startsWith('#|', pos)) {
        let depth = 0;
        do {
          if (text.startsWith('#|', pos)) {
            depth++;
            pos += 2;
          } else if (text.startsWith('|#', pos)) {
            depth--;
            pos += 2;
          } else if (pos >= n) {
            throw new DuneSyntaxError('unterminated block comment');
          } else {
            pos++;
          }
        } while (depth > 0);
      } else if (text.startsWith('#;', pos)) {
        pos += 2;
        skipSpaceAndComments();
        read();
      } else {
        return;
      }
    }
  };

  const read = (): Sexp => {
    skipSpaceAndComments();
    const c = text[pos];
    if (c === undefined) throw new DuneSyntaxError('unexpected end of file');
    if (c === '(') {
      pos++;
      const list: Sexp[] = [];
      for (;;) {
        skipSpaceAndComments();
        if (pos >= n) throw new DuneSyntaxError('unclosed parenthesis');
        if (text[pos] === ')') {
          pos++;
          return list;
        }
        list.push(read());
      }
    }
    if (c === ')') throw new DuneSyntaxError('unexpected ")"');
    if (c === '"') {
      pos++;
      let out = '';
      while (pos < n && text[pos] !== '"') {
        if (text[pos] === '\\' && pos + 1 < n) {
          out += text[pos + 1] === 'n' ? '\n' : text[pos + 1];
          pos += 2;
        } else {
          out += text[pos++];
        }
      }
      if (pos >= n) throw new DuneSyntaxError('unterminated string');
      pos++;
      return out;
    }
    const start = pos;
    while (pos < n && !/[\s()";]/.test(text[pos]!)) pos++;
    return text.slice(start, pos);
  };

  const out: Sexp[] = [];
  for (;;) {
    skipSpaceAndComments();
    if (pos >= n) return out;
    out.push(read());
  }
}

export interface DuneLibrary {
  name: string;
  publicName?: string;
  libraries: string[];
  inlineTests: boolean;
}

export interface DuneFileInfo {
  libraries: DuneLibrary[];
  /** Libraries used by executables and tests in the directory. */
  usedByExecutables: string[];
  /** The directory has test stanzas, inline tests or rules attached to runtest. */
  hasTests: boolean;
  /** `(include ...)`: mirage's generated unikernel dune file includes dune.build. */
  includes: string[];
}

function field(stanza: Sexp[], key: string): Sexp[] | undefined {
  return stanza.find((f): f is Sexp[] => Array.isArray(f) && f[0] === key);
}

function atoms(values: Sexp[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'string') {
      if (v !== ':standard' && !v.startsWith('%{')) out.push(v);
    } else if (v[0] === 're_export') {
      out.push(...atoms(v.slice(1)));
    } else if (v[0] === 'select') {
      // (select file from (lib -> file) ...): every library named on the left may be used.
      for (const choice of v.slice(2)) if (Array.isArray(choice)) out.push(...atoms(choice.slice(0, choice.indexOf('->'))));
    }
  }
  return out;
}

/** What a dune file declares; throws DuneSyntaxError for text dune could not read either. */
export function readDuneFile(text: string): DuneFileInfo {
  const info: DuneFileInfo = { libraries: [], usedByExecutables: [], hasTests: false, includes: [] };
  for (const stanza of parseSexps(text)) {
    if (!Array.isArray(stanza) || typeof stanza[0] !== 'string') continue;
    const kind = stanza[0];
    const libs = atoms(field(stanza, 'libraries')?.slice(1) ?? []);
    if (kind === 'library') {
      const name = field(stanza, 'name')?.[1];
      if (typeof name !== 'string') continue;
      const publicName = field(stanza, 'public_name')?.[1];
      const inlineTests = field(stanza, 'inline_tests') !== undefined;
      info.libraries.push({ name, ...(typeof publicName === 'string' ? { publicName } : {}), libraries: libs, inlineTests });
      if (inlineTests) info.hasTests = true;
    } else if (kind === 'executable' || kind === 'executables' || kind === 'test' || kind === 'tests') {
      info.usedByExecutables.push(...libs);
      if (kind === 'test' || kind === 'tests') info.hasTests = true;
    } else if (kind === 'rule' || kind === 'alias') {
      const alias = field(stanza, 'alias')?.[1] ?? (kind === 'alias' ? field(stanza, 'name')?.[1] : undefined);
      if (alias === 'runtest') info.hasTests = true;
    } else if (kind === 'include') {
      if (typeof stanza[1] === 'string') info.includes.push(stanza[1]);
    }
  }
  return info;
}

/** The library names a `libraries` entry can refer to: `lwt.unix` belongs to the `lwt` package. */
export function packageOfLibrary(library: string): string {
  return library.split('.')[0]!;
}

/** Libraries that come with the OCaml compiler or findlib, not from an opam package of their own. */
const COMPILER_LIBRARIES = new Set(['unix', 'threads', 'str', 'bigarray', 'dynlink', 'compiler-libs', 'stdlib', 'ocamlfind', 'findlib', 'runtime_events']);

/** The opam package a library reference belongs to, or undefined for the compiler's own libraries. */
export function opamPackageOf(library: string): string | undefined {
  const pkg = packageOfLibrary(library);
  return COMPILER_LIBRARIES.has(pkg) ? undefined : pkg;
}

/** The text inside the top-level `depends: [ ... ]` of an opam file (empty when it has none). */
export function opamDependsBlock(text: string): string {
  return /^depends:\s*\[([^]*?)^\]/m.exec(text)?.[1] ?? '';
}

/** A copy of `record` with its keys in sorted order, so its JSON is the same whatever order it was built in. */
export function sortedByKey<V>(record: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

/** Package versions pinned by an opam-monorepo lockfile (`depends: [ "name" {= "version" ...} ... ]`). */
export function readOpamLockfile(text: string): Record<string, string> {
  const depends = opamDependsBlock(text);
  const out: Record<string, string> = {};
  for (const m of depends.matchAll(/"([^"]+)"\s*\{\s*=\s*"([^"]+)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The packages of a lockfile that come from the opam switch, not vendored (`ocaml`, `dune`, `ocaml-solo5`, ...). */
export function switchPackagesOfLockfile(text: string): string[] {
  const depends = opamDependsBlock(text);
  return [...depends.matchAll(/"([^"]+)"\s*\{([^}]*)\}/g)].filter((m) => !/\?vendor/.test(m[2]!)).map((m) => m[1]!).sort();
}

/** The field of a lockfile's JSON view that holds, per unikernel, the locked packages its build reads. */
export const CLOSURES_FIELD = '@closures';

/**
 * The JSON view of a lockfile that nx-mirage keeps beside it (`LOCKFILE.json`): package → version, one
 * top-level field each, so that Nx inputs can select the packages a project uses and `nx affected` compares
 * exactly those fields between revisions; and, under `@closures`, each unikernel's locked dependency closure
 * (worked out from the vendored sources when they are pulled), which says which fields those are.
 */
export function lockVersionsJson(versions: Record<string, string>, closures?: Record<string, string[]>): string {
  const view: Record<string, unknown> = { ...sortedByKey(versions) };
  if (closures && Object.keys(closures).length > 0) view[CLOSURES_FIELD] = sortedByKey(closures);
  return JSON.stringify(view, null, 2) + '\n';
}

/** The closures a lockfile's JSON view records (empty for a view without them, or one that is not JSON). */
export function readLockClosures(view: string): Record<string, string[]> {
  try {
    const closures = (JSON.parse(view) as Record<string, unknown>)[CLOSURES_FIELD];
    if (!closures || typeof closures !== 'object') return {};
    return Object.fromEntries(Object.entries(closures as Record<string, unknown>).filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every((x) => typeof x === 'string')));
  } catch {
    return {};
  }
}

/**
 * Each unikernel's locked dependency closure: the packages of the lockfile reachable from the packages it uses,
 * through the `depends` of the vendored packages' opam files (`depsOf`), plus the lockfile's switch packages
 * (the compiler, dune), which every build reads. A bump of any of them can change its artifact.
 */
export function lockClosures(
  unikernels: ReadonlyArray<{ name: string; packages: readonly string[] }>,
  locked: Readonly<Record<string, string>>,
  switchPackages: readonly string[],
  depsOf: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const u of unikernels) {
    const seen = new Set<string>(switchPackages.filter((p) => p in locked));
    const queue = u.packages.filter((p) => p in locked);
    while (queue.length) {
      const pkg = queue.pop()!;
      if (seen.has(pkg)) continue;
      seen.add(pkg);
      for (const dep of depsOf[pkg] ?? []) if (dep in locked && !seen.has(dep)) queue.push(dep);
    }
    out[u.name] = [...seen].sort();
  }
  return out;
}

/** The packages an opam file's `depends` names (filters and constraints dropped). */
export function opamDependencies(text: string): string[] {
  return [...opamDependsBlock(text).matchAll(/^\s*"([^"]+)"/gm)].map((m) => m[1]!);
}

export function lockVersionsJsonPath(lockfile: string): string {
  return `${lockfile}.json`;
}
