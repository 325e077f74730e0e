/**
 * Running a Xen unikernel with `xl`. mirage 4.11.1 writes two xl configurations beside the kernel:
 * `NAME.xl.in`, a template whose `@NAME@`, `@KERNEL@`, `@MEMORY@`, `@BLOCK:FILE@` and `@NETWORK:NAME@` are to be
 * substituted, and `NAME.xl`, the same lines with defaults detected on the build host (memory 256, the block
 * file itself, bridges `br0`, `br1`... or `xenbr0`...). Its manifest lists no devices: the template is where
 * the devices are. nx-mirage renders the template with the defaults of `NAME.xl`, overridden by
 * `--net.NAME=BRIDGE`, `--block.FILE=PATH` and `--memory`, and the runtime arguments as the kernel command line.
 */

export interface XenRunRequest {
  /** `dist/NAME.xl.in`. */
  template: string;
  /** `dist/NAME.xl`, whose values are the defaults. */
  example?: string;
  /** The kernel file, as `kernel = '...'` gives it (relative to the directory xl runs in). */
  kernel: string;
  memory?: number;
  net: Record<string, string>;
  block: Record<string, string>;
  args: string[];
}

export type XenConfig = { ok: true; config: string } | { ok: false; problems: string[] };

const PLACEHOLDER = /@(NAME|KERNEL|MEMORY|BLOCK:[^@\n]*|NETWORK:[^@\n]*)@/g;

/** Characters that cannot appear inside a quoted xl value (`'...'`), nor in a `key=value, ...` device spec. */
const UNSAFE_VALUE = /[',"\\\n\r\0]/;

/** The kernel command line: xl passes `extra` as one string, which the unikernel splits at white space. */
const UNSAFE_ARG = /[\s'"\\]/;
const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The placeholders of the template, in order of first appearance. */
export function xenPlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * The values `NAME.xl` gives the template's placeholders: both files come from one generator, line for line,
 * so each template line with placeholders is matched against the same line of the example.
 */
export function xenDefaults(template: string, example: string): Record<string, string> {
  const out: Record<string, string> = {};
  const exampleLines = example.split('\n');
  template.split('\n').forEach((line, i) => {
    const names = [...line.matchAll(PLACEHOLDER)].map((m) => m[1]!);
    if (names.length === 0) return;
    const pattern = new RegExp(`^${line.split(PLACEHOLDER).map((part, j) => (j % 2 === 0 ? escapeRegExp(part) : '(.*?)')).join('')}$`);
    const match = pattern.exec(exampleLines[i] ?? '');
    if (!match) return;
    names.forEach((name, k) => {
      if (out[name] === undefined) out[name] = match[k + 1]!;
    });
  });
  return out;
}

export function renderXenConfig(r: XenRunRequest): XenConfig {
  const problems: string[] = [];
  const placeholders = xenPlaceholders(r.template);
  const defaults = r.example ? xenDefaults(r.template, r.example) : {};
  const devices = (kind: 'NETWORK' | 'BLOCK') => placeholders.filter((p) => p.startsWith(`${kind}:`)).map((p) => p.slice(kind.length + 1));
  const values: Record<string, string | undefined> = { ...defaults, KERNEL: r.kernel, ...(r.memory ? { MEMORY: String(r.memory) } : {}) };
  for (const [option, kind, given, what] of [
    ['net', 'NETWORK', r.net, 'bridge'],
    ['block', 'BLOCK', r.block, 'file'],
  ] as const) {
    const known = devices(kind);
    for (const [name, value] of Object.entries(given)) {
      if (!known.includes(name)) {
        problems.push(`--${option}.${name}: the Xen configuration has no ${option === 'net' ? 'network' : 'block'} device "${name}" (its ${option === 'net' ? 'networks' : 'block devices'}: ${known.map((k) => `"${k}"`).join(', ') || 'none'})`);
      } else if (value === '' || UNSAFE_VALUE.test(value)) {
        problems.push(`--${option}.${name}=${JSON.stringify(value)}: a Xen ${what} cannot be empty or hold quotes, commas, backslashes or line breaks`);
      } else {
        values[`${kind}:${name}`] = value;
      }
    }
  }
  const missing = placeholders.filter((p) => values[p] === undefined);
  for (const p of missing) {
    const [kind, name] = p.split(':');
    if (kind === 'NETWORK') problems.push(`the Xen network "${name}" has no bridge: give one with --net.${name}=br0`);
    else if (kind === 'BLOCK') problems.push(`the Xen block device "${name}" has no file: give one with --block.${name}=disk.img`);
    else problems.push(`the Xen configuration's @${p}@ has no value: rebuild the unikernel so that its .xl is beside the .xl.in`);
  }
  const bad = r.args.filter((a) => a === '' || UNSAFE_ARG.test(a) || hasControl(a));
  if (bad.length > 0) {
    problems.push(
      `runtime arguments ${bad.map((a) => JSON.stringify(a)).join(', ')} cannot reach a Xen unikernel intact: xl hands the kernel one command line, ` +
        'split at white space, so an argument cannot be empty or hold white space, quotes or backslashes',
    );
  }
  if (problems.length > 0) return { ok: false, problems };
  let config = r.template.replace(PLACEHOLDER, (_, p: string) => values[p]!);
  if (!config.endsWith('\n')) config += '\n';
  if (r.args.length > 0) config += `extra = '${r.args.join(' ')}'\n`;
  return { ok: true, config };
}
