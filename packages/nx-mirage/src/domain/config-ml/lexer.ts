/**
 * A small OCaml lexer, enough to read MirageOS `config.ml` files without running OCaml.
 *
 * It follows the OCaml manual's lexical conventions where they matter for reading a configuration:
 * nested comments (which themselves lex string, quoted-string and character literals, so a `*)` inside a
 * string does not close the comment), string literals with escapes, quoted strings `{|...|}` and
 * `{id|...|id}`, character literals versus type variables, labels `~l:` / `?l:`, polymorphic variants
 * and module paths. Comments are dropped; everything else becomes a token with its line number.
 */

export type TokenKind =
  | 'lident' // lowercase identifier or keyword: register, let, open, package
  | 'uident' // capitalised identifier: Mirage, Key
  | 'string' // "..." or {id|...|id}; `value` is the decoded text
  | 'char'
  | 'number'
  | 'label' // ~name or ?name; `value` is the name, `optional` for ?name, `colon` when written ~name:
  | 'variant' // `Name; value is Name
  | 'punct'; // any other symbol or operator: ( ) [ ] ; , . = :: |> $ ...

export interface Token {
  kind: TokenKind;
  value: string;
  line: number;
  /** Offset of the token's first character in the source (where tokens are pushed with one). */
  offset?: number;
  /** Only for labels: `~name:` (true) or a punned `~name` (false). */
  colon?: boolean;
  /** Only for labels: written with `?`. */
  optional?: boolean;
}

export interface LexDiagnostic {
  line: number;
  message: string;
}

export interface LexResult {
  tokens: Token[];
  /** Problems that make the token stream incomplete (unterminated comment or string). */
  errors: LexDiagnostic[];
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_'\u0080-\uffff]/;
const OPERATOR_CHAR = /[!$%&*+\-./:<=>?@^|~#]/;
const QUOTED_ID = /[a-z_0-9]/;

export function lexOcaml(source: string): LexResult {
  const lexer = new Lexer(source);
  lexer.run();
  return { tokens: lexer.tokens, errors: lexer.errors };
}

class Lexer {
  readonly tokens: Token[] = [];
  readonly errors: LexDiagnostic[] = [];
  private pos = 0;
  private line = 1;

  constructor(private readonly src: string) {}

  run(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
        this.pos++;
      } else if (c === '(' && src[this.pos + 1] === '*') {
        this.comment();
      } else if (c === '"') {
        const line = this.line;
        const value = this.string();
        if (value !== undefined) this.tokens.push({ kind: 'string', value, line });
      } else if (c === '{' && this.quotedStringAhead() !== undefined) {
        const line = this.line;
        const value = this.quotedString();
        if (value !== undefined) this.tokens.push({ kind: 'string', value, line });
      } else if (c === "'") {
        this.quoteOrChar();
      } else if (c === '`' && IDENT_START.test(src[this.pos + 1] ?? '')) {
        this.pos++;
        this.tokens.push({ kind: 'variant', value: this.identifier(), line: this.line });
      } else if ((c === '~' || c === '?') && /[a-z_]/.test(src[this.pos + 1] ?? '')) {
        this.label(c === '?');
      } else if (/[0-9]/.test(c)) {
        const start = this.pos;
        while (this.pos < src.length && /[0-9A-Za-z_.]/.test(src[this.pos]!)) {
          // exponent signs: 1e-3
          if (/[eEpP]/.test(src[this.pos]!) && /[+-]/.test(src[this.pos + 1] ?? '')) this.pos++;
          this.pos++;
        }
        this.tokens.push({ kind: 'number', value: src.slice(start, this.pos), line: this.line });
      } else if (IDENT_START.test(c)) {
        const offset = this.pos;
        const value = this.identifier();
        this.tokens.push({ kind: /[A-Z]/.test(value[0]!) ? 'uident' : 'lident', value, line: this.line, offset });
      } else if ('()[]{};,'.includes(c)) {
        // `[|`, `|]` and `[<`, `[>` are irrelevant here: brackets are what grouping needs.
        this.tokens.push({ kind: 'punct', value: c, line: this.line, offset: this.pos });
        this.pos++;
      } else if (OPERATOR_CHAR.test(c)) {
        const start = this.pos;
        while (this.pos < src.length && OPERATOR_CHAR.test(src[this.pos]!)) this.pos++;
        this.tokens.push({ kind: 'punct', value: src.slice(start, this.pos), line: this.line });
      } else {
        // Any other byte (control characters, stray backslashes): skipped, as the reader only needs structure.
        this.pos++;
      }
    }
  }

  private identifier(): string {
    const start = this.pos;
    while (this.pos < this.src.length && IDENT_CHAR.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private label(optional: boolean): void {
    const line = this.line;
    const offset = this.pos;
    this.pos++;
    const value = this.identifier();
    const colon = this.src[this.pos] === ':' && this.src[this.pos + 1] !== ':';
    if (colon) this.pos++;
    this.tokens.push({ kind: 'label', value, line, colon, optional, offset });
  }

  /** `(* ... *)`, nested, with literals inside lexed so their contents cannot close the comment. */
  private comment(): void {
    const startLine = this.line;
    const src = this.src;
    let depth = 0;
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === '(' && src[this.pos + 1] === '*') {
        depth++;
        this.pos += 2;
      } else if (c === '*' && src[this.pos + 1] === ')') {
        depth--;
        this.pos += 2;
        if (depth === 0) return;
      } else if (c === '"') {
        if (this.string() === undefined) return;
      } else if (c === '{' && this.quotedStringAhead() !== undefined) {
        if (this.quotedString() === undefined) return;
      } else if (c === "'") {
        this.skipCharLiteralInComment();
      } else {
        if (c === '\n') this.line++;
        this.pos++;
      }
    }
    this.errors.push({ line: startLine, message: `unterminated comment starting on line ${startLine}` });
  }

  /** Reads a "..." literal starting at the opening quote; returns its decoded value. */
  private string(): string | undefined {
    const startLine = this.line;
    const src = this.src;
    this.pos++;
    let out = '';
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        out += this.escape();
        continue;
      }
      if (c === '\n') this.line++;
      out += c;
      this.pos++;
    }
    this.errors.push({ line: startLine, message: `unterminated string starting on line ${startLine}` });
    return undefined;
  }

  private escape(): string {
    const src = this.src;
    const next = src[this.pos + 1];
    this.pos += 2;
    switch (next) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'r':
        return '\r';
      case ' ':
        return ' ';
      case '\\':
      case '"':
      case "'":
        return next;
      case '\n': {
        this.line++;
        while (src[this.pos] === ' ' || src[this.pos] === '\t') this.pos++;
        return '';
      }
      case 'x': {
        const hex = src.slice(this.pos, this.pos + 2);
        this.pos += 2;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case 'o': {
        const oct = src.slice(this.pos, this.pos + 3);
        this.pos += 3;
        return String.fromCharCode(parseInt(oct, 8));
      }
      case 'u': {
        const end = src.indexOf('}', this.pos);
        if (src[this.pos] !== '{' || end < 0) return 'u';
        const code = parseInt(src.slice(this.pos + 1, end), 16);
        this.pos = end + 1;
        return Number.isFinite(code) ? String.fromCodePoint(code) : '';
      }
      default: {
        if (next !== undefined && /[0-9]/.test(next)) {
          const dec = next + src.slice(this.pos, this.pos + 2);
          this.pos += 2;
          return String.fromCharCode(parseInt(dec, 10));
        }
        // Unknown escapes are kept verbatim, as OCaml does (with a warning).
        if (next === '\n' || next === undefined) return '\\';
        return '\\' + next;
      }
    }
  }

  /** If a quoted string `{id|` starts here, returns its delimiter id. */
  private quotedStringAhead(): string | undefined {
    let i = this.pos + 1;
    // Quoted extension nodes `{%ext id|...|id}` use the same delimiters.
    if (this.src[i] === '%') {
      i++;
      while (i < this.src.length && /[A-Za-z0-9_.]/.test(this.src[i]!)) i++;
      while (this.src[i] === ' ') i++;
    }
    const start = i;
    while (i < this.src.length && QUOTED_ID.test(this.src[i]!)) i++;
    return this.src[i] === '|' ? this.src.slice(start, i) : undefined;
  }

  private quotedString(): string | undefined {
    const startLine = this.line;
    const id = this.quotedStringAhead()!;
    const open = this.src.indexOf('|', this.pos);
    const close = `|${id}}`;
    const end = this.src.indexOf(close, open + 1);
    if (end < 0) {
      this.errors.push({ line: startLine, message: `unterminated quoted string starting on line ${startLine}` });
      this.pos = this.src.length;
      return undefined;
    }
    const value = this.src.slice(open + 1, end);
    this.line += countNewlines(value);
    this.pos = end + close.length;
    return value;
  }

  /** `'x'`, `'\n'`, `'\065'` are character literals; `'a` (type variable) is a quote token. */
  private quoteOrChar(): void {
    const literal = this.charLiteralLength();
    if (literal > 0) {
      const raw = this.src.slice(this.pos, this.pos + literal);
      this.tokens.push({ kind: 'char', value: raw, line: this.line });
      this.line += countNewlines(raw);
      this.pos += literal;
      return;
    }
    this.tokens.push({ kind: 'punct', value: "'", line: this.line });
    this.pos++;
  }

  private charLiteralLength(): number {
    const src = this.src;
    const p = this.pos;
    if (src[p + 1] === '\\') {
      const m = /^'\\(?:[\\'"ntbr ]|[0-9]{3}|x[0-9a-fA-F]{2}|o[0-7]{3})'/.exec(src.slice(p, p + 7));
      return m ? m[0].length : 0;
    }
    if (src[p + 1] !== undefined && src[p + 2] === "'") return 3;
    return 0;
  }

  private skipCharLiteralInComment(): void {
    const literal = Math.max(this.charLiteralLength(), 1);
    this.line += countNewlines(this.src.slice(this.pos, this.pos + literal));
    this.pos += literal;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}
