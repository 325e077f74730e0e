/**
 * Text edits of config.ml that keep everything else as written: adding a library to `~local_libs` of the
 * `main` call (mirage >= 4.10).
 */
import { lexOcaml, type Token } from './lexer';

export type EditResult = { ok: true; source: string; changed: boolean } | { ok: false; reason: string };

/**
 * `value` as an OCaml string literal: quotes and backslashes escaped, control characters as `\xHH`, so that no
 * value, however crafted, can end the string (or a comment it sits in) and add code. What generators render
 * into config.ml and unikernel.ml goes through here, never through an HTML-escaping template tag.
 */
export function ocamlString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Adds `lib` to the `~local_libs` list of the `main "Module" ...` call, creating the argument if needed. */
export function addLocalLib(source: string, lib: string): EditResult {
  const { tokens, errors } = lexOcaml(source);
  if (errors.length) return { ok: false, reason: errors[0]!.message };
  const mains = mainCalls(tokens);
  if (mains.length !== 1) {
    return { ok: false, reason: mains.length ? 'it calls `main` more than once; add the library to the right one by hand' : 'it has no `main "Module" ...` call' };
  }
  const at = mains[0]!;
  for (let i = at + 1; i < tokens.length && tokens[i]!.line - tokens[at]!.line < 20; i++) {
    const t = tokens[i]!;
    if (t.kind === 'label' && t.value === 'local_libs' && t.colon) {
      const open = tokens[i + 1];
      if (!open || open.value !== '[' || open.offset === undefined) return { ok: false, reason: '`~local_libs` is not a literal list' };
      const close = tokens.slice(i + 2).find((x) => x.kind === 'punct' && x.value === ']');
      const items = tokens.slice(i + 2, close ? tokens.indexOf(close) : i + 2).filter((x) => x.kind === 'string').map((x) => x.value);
      if (items.includes(lib)) return { ok: true, source, changed: false };
      if (!close || close.offset === undefined) return { ok: false, reason: '`~local_libs` is not a literal list' };
      const before = source.slice(0, close.offset).replace(/\s*$/, '');
      const separator = items.length ? '; ' : ' ';
      return { ok: true, changed: true, source: `${before}${separator}${ocamlString(lib)} ${source.slice(close.offset)}` };
    }
    if (t.kind === 'lident' && (t.value === 'let' || t.value === 'in')) break;
  }
  const offset = tokens[at]!.offset! + 'main'.length;
  return { ok: true, changed: true, source: `${source.slice(0, offset)} ~local_libs:[ ${ocamlString(lib)} ]${source.slice(offset)}` };
}

/** `main` applications (unqualified or Mirage.main), not definitions of a value named main. */
function mainCalls(tokens: Token[]): number[] {
  const out: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'lident' || t.value !== 'main' || t.offset === undefined) return;
    const prev = tokens[i - 1];
    if (prev?.kind === 'lident' && ['let', 'and', 'val'].includes(prev.value)) return;
    if (prev?.value === '.' && tokens[i - 2]?.value !== 'Mirage') return;
    // An application of main takes its module name or a labelled argument next; `[ main ]` or `main $ x` use the value.
    const next = tokens[i + 1];
    if (next?.kind !== 'string' && next?.kind !== 'label') return;
    out.push(i);
  });
  return out;
}
