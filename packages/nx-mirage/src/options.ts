/**
 * The options of the nx-mirage plugin registration in nx.json: one zod schema, read by inference, the
 * executors, the sync generator and the generators. A wrong option is one message naming it and what is allowed.
 */
import { isAbsolute, posix } from 'node:path';
import type { NxJsonConfiguration } from '@nx/devkit';
import { z } from 'zod';
import { MIRAGE_TARGETS } from './domain/targets';
import { DEFAULT_COMPILER, DEFAULT_REPOSITORIES, DEFAULT_TOOLCHAIN_DIR } from './domain/toolchain';
import { formatZodError } from './utils/zod';

const mirageTarget = z.enum(MIRAGE_TARGETS, {
  error: (issue) => `must be a mirage target, one of ${MIRAGE_TARGETS.join(', ')}; got ${JSON.stringify(issue.input)}`,
});

/** Flags nx-mirage sets itself on `mirage configure`; users choose them through other options. */
const RESERVED_FLAG = /^(-t|-f|--target|--file|--config-file)(=|$)/;

const configureFlags = z
  .array(
    z.string().refine((flag) => !RESERVED_FLAG.test(flag), {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is set by nx-mirage: choose the mirage target with the "target" option and leave -f/--file to the plugin`,
    }),
    { error: 'must be a list of mirage configure flags, for example ["--no-dhcp", "--net=direct"]' },
  )
  .describe('Extra flags given to `mirage configure` after -f and -t');

/** A key of the `unikernels` map: a name `register` can give (see the model's project names). */
const UNIKERNEL_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const targetName = (fallback: string) =>
  z
    .string({ error: 'must be a target name (a non-empty string)' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, { error: 'must start with a letter or digit and use only letters, digits, _ . : -' })
    .default(fallback);

const perUnikernel = z.strictObject({
  target: mirageTarget.optional(),
  configureFlags: configureFlags.optional(),
});

const toolchainDir = z.string({ error: 'must be a directory path' }).min(1, { error: 'must be a directory path, not empty' });
const compilerPackage = z
  .string({ error: 'must be an opam compiler package, for example "ocaml-base-compiler.5.4.1" or "ocaml-system"' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.+~-]*$/, { error: 'must be an opam package name, optionally with .VERSION, for example "ocaml-base-compiler.5.4.1"' });
const repositoryUrl = z.string().regex(/^(https?|file|git\+https?|git\+file|git\+ssh|ssh):\/\//, { error: 'must be an http(s)://, file:// or git+ URL' });

const toolchainOptions = z.strictObject({
  /**
   * "path": the tools on PATH (an opam switch, Nix, the system), as set up by the user. "auto": those when they
   * are all there, else a managed opam switch. "managed": always the managed switch.
   */
  mode: z.enum(['path', 'auto', 'managed'], { error: 'must be "path" (tools on PATH), "auto" (PATH, else a managed opam switch) or "managed"' }).default('path'),
  /** Directory of the managed switch (opam root and state); relative to the workspace root or absolute. */
  dir: toolchainDir.default(DEFAULT_TOOLCHAIN_DIR),
  /** Compiler package of the managed switch. */
  compiler: compilerPackage.default(DEFAULT_COMPILER),
  /** opam repositories of the managed switch, in priority order. */
  repositories: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { error: 'must be a repository name (letters, digits, _ -)' }),
        url: repositoryUrl,
      }),
      { error: 'must be a list of { "name": ..., "url": ... } opam repositories' },
    )
    .min(1, { error: 'must name at least one opam repository' })
    .default(() => DEFAULT_REPOSITORIES.map((r) => ({ ...r }))),
});

const optionsObject = z.strictObject({
    /** Default mirage target of every unikernel (`mirage configure -t`). */
    target: mirageTarget.default('hvt'),
    configureFlags: configureFlags.default([]),
    /** Per-unikernel settings, keyed by the unikernel name given to `register`. */
    unikernels: z
      .record(z.string(), perUnikernel)
      .superRefine((map, ctx) => {
        for (const key of Object.keys(map)) {
          if (UNIKERNEL_KEY.test(key)) continue;
          ctx.addIssue({ code: 'custom', path: [key], message: 'is not a unikernel name: keys are the names given to `register` in config.ml (letters, digits, _ . -)' });
        }
      })
      .default({}),
    /**
     * Vendor dependencies with opam-monorepo (lock and pull into duniverse/) before building, as mirage's
     * `make` does. Set to false when every library is installed in the opam switch.
     */
    monorepo: z.boolean({ error: 'must be true or false' }).default(true),
    /**
     * "workspace" (default): one mirage.opam.locked and one duniverse/ at the dune root for all unikernels
     * (mirage-skeleton's Makefile); several duniverse/ directories in one dune root vendor the same packages
     * twice, which dune rejects ("Too many opam files for package"). "unikernel": a lockfile and duniverse/
     * per unikernel (mirage's Makefile), for dune roots with one unikernel.
     */
    lockScope: z.enum(['unikernel', 'workspace'], { error: 'must be "workspace" (one lockfile for all) or "unikernel" (one lockfile each)' }).default('workspace'),
    /** The dune root of all unikernels, relative to the workspace root: nx-mirage owns its dune-project and dune-workspace. */
    duneRoot: z
      .string({ error: 'must be a directory relative to the workspace root, for example "." or "ocaml"' })
      .refine((d) => !isAbsolute(d) && !d.split(/[\\/]/).includes('..'), {
        error: 'must be a directory inside the workspace (relative, without "..")',
      })
      .transform((d) => posix.normalize(d.replace(/\\/g, '/')).replace(/\/+$/, '') || '.')
      .default('.'),
    /** Targets built only per invocation (nx build NAME -c TARGET) whose dune contexts must exist too. */
    additionalTargets: z.array(mirageTarget, { error: 'must be a list of mirage targets' }).default([]),
    /** Dune's shared build cache for builds (DUNE_CACHE=enabled, direct transport). */
    duneCache: z.boolean({ error: 'must be true or false' }).default(true),
    /** Where dune keeps its cache (as XDG_CACHE_HOME for dune: <dir>/dune/db); default: dune's own (~/.cache/dune). */
    duneCacheDir: z.string({ error: 'must be a directory path' }).optional(),
    /** Where the OCaml toolchain comes from (tools on PATH, or a switch nx-mirage manages). */
    toolchain: toolchainOptions.default(() => toolchainOptions.parse({})),
    configureTargetName: targetName('configure'),
    lockTargetName: targetName('lock'),
    installSwitchTargetName: targetName('install-switch'),
    pullTargetName: targetName('pull'),
    dependsTargetName: targetName('depends'),
    buildTargetName: targetName('build'),
    runTargetName: targetName('run'),
    serveTargetName: targetName('serve'),
    verifyTargetName: targetName('verify'),
    cleanTargetName: targetName('clean'),
    toolchainTargetName: targetName('toolchain'),
});

export const pluginOptionsSchema = optionsObject.superRefine((options, ctx) => {
    const names = new Map<string, string>();
    for (const [key, value] of Object.entries(options)) {
      if (!key.endsWith('TargetName')) continue;
      const other = names.get(value as string);
      if (other) ctx.addIssue({ code: 'custom', path: [key], message: `is "${value}", the same as ${other}; target names must differ` });
      names.set(value as string, key);
    }
  });

export type MiragePluginOptions = z.input<typeof pluginOptionsSchema>;
export type NormalizedPluginOptions = z.output<typeof pluginOptionsSchema>;

export class PluginOptionsError extends Error {
  override name = 'PluginOptionsError';
}

function allowedKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return Object.keys(optionsObject.shape);
  if (path.length === 2 && path[0] === 'unikernels') return Object.keys(perUnikernel.shape);
  if (path.length === 1 && path[0] === 'toolchain') return Object.keys(toolchainOptions.shape);
  return undefined;
}

/** Validates the nx.json options of the nx-mirage plugin; a wrong option is one message naming it and what is allowed. */
export function normalizePluginOptions(options: unknown): NormalizedPluginOptions {
  const parsed = pluginOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  throw new PluginOptionsError(
    `Invalid nx-mirage plugin options in nx.json (plugins entry "nx-mirage"):\n${formatZodError(parsed.error, allowedKeysAt)}\n` +
      `Fix the entry in nx.json; the options are documented in the nx-mirage README ("Plugin options").`,
  );
}

const PLUGIN = /(^|[\\/])nx-mirage([\\/](plugin|dist[\\/]src[\\/](index|plugin)(\.js)?))?$/;

/** The options of the nx-mirage entries in nx.json (merged when it is registered several times). */
export function pluginOptionsFromNxJson(nxJson: NxJsonConfiguration | undefined | null): NormalizedPluginOptions {
  const entries = (nxJson?.plugins ?? []).filter((p) => PLUGIN.test(typeof p === 'string' ? p : p.plugin));
  const options = entries.map((p) => normalizePluginOptions(typeof p === 'string' ? {} : p.options));
  const [first, ...rest] = options;
  if (!first) return normalizePluginOptions({});
  return {
    ...first,
    additionalTargets: [...new Set([first, ...rest].flatMap((o) => o.additionalTargets))],
  };
}

/** Environment overrides of the toolchain options, each checked like the option it overrides. */
const TOOLCHAIN_OVERRIDES = [
  { variable: 'NX_MIRAGE_TOOLCHAIN_DIR', option: 'toolchain.dir', schema: toolchainDir },
  { variable: 'NX_MIRAGE_OPAM_COMPILER', option: 'toolchain.compiler', schema: compilerPackage },
  { variable: 'NX_MIRAGE_OPAM_REPOSITORY', option: 'toolchain.repositories', schema: repositoryUrl },
] as const;

export type ToolchainOverrides = Partial<Record<(typeof TOOLCHAIN_OVERRIDES)[number]['variable'], string>>;

/**
 * The NX_MIRAGE_* toolchain overrides that are set (an empty value counts as unset), validated as strictly as
 * the nx.json options; a wrong one is refused with a message naming the variable, not nx.json.
 */
export function toolchainOverridesFromEnv(env: NodeJS.ProcessEnv): ToolchainOverrides {
  const out: ToolchainOverrides = {};
  const wrong: string[] = [];
  for (const { variable, option, schema } of TOOLCHAIN_OVERRIDES) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const parsed = schema.safeParse(value);
    if (parsed.success) out[variable] = parsed.data;
    else wrong.push(`  ${variable}=${JSON.stringify(value)} ${parsed.error.issues.map((i) => i.message).join('; ')} (it overrides the nx-mirage option ${option} of nx.json)`);
  }
  if (wrong.length > 0) {
    throw new PluginOptionsError(
      `Invalid nx-mirage environment override${wrong.length > 1 ? 's' : ''}:\n${wrong.join('\n')}\n` +
        `Fix the value, or unset the variable (unset ${wrong.map((w) => w.trim().split('=')[0]).join(' ')}) to use nx.json's option.`,
    );
  }
  return out;
}
