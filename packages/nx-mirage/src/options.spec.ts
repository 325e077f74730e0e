import { describe, expect, it } from 'vitest';
import { normalizePluginOptions, toolchainOverridesFromEnv } from './options';
import { toolchainSettings } from './executors/use-toolchain';

describe('NX_MIRAGE_* toolchain overrides', () => {
  const options = normalizePluginOptions({ toolchain: { mode: 'auto' } });

  it('override the nx.json options when valid; empty means unset', () => {
    const env = { NX_MIRAGE_OPAM_COMPILER: 'ocaml-base-compiler.5.3.0', NX_MIRAGE_OPAM_REPOSITORY: 'file:///srv/opam', NX_MIRAGE_TOOLCHAIN_DIR: '' };
    const settings = toolchainSettings(options, '/ws', env);
    expect(settings.compiler).toBe('ocaml-base-compiler.5.3.0');
    expect(settings.repositories).toEqual([{ name: 'default', url: 'file:///srv/opam' }]);
    expect(settings.dir).toBe('/ws/.nx-mirage/toolchain');
  });

  it('refuse an opam option or a scheme nx.json refuses, naming the variable rather than nx.json', () => {
    expect(() => toolchainOverridesFromEnv({ NX_MIRAGE_OPAM_COMPILER: '--help' })).toThrow(
      /NX_MIRAGE_OPAM_COMPILER="--help" must be an opam package name, optionally with \.VERSION.*\(it overrides the nx-mirage option toolchain\.compiler of nx\.json\)\nFix the value, or unset the variable \(unset NX_MIRAGE_OPAM_COMPILER\)/,
    );
    expect(() => toolchainSettings(options, '/ws', { NX_MIRAGE_OPAM_REPOSITORY: 'ftp://mirror/opam', NX_MIRAGE_OPAM_COMPILER: '-v' })).toThrow(
      /overrides:\n {2}NX_MIRAGE_OPAM_COMPILER="-v" .*\n {2}NX_MIRAGE_OPAM_REPOSITORY="ftp:\/\/mirror\/opam" must be an http\(s\):\/\/, file:\/\/ or git\+ URL/,
    );
    expect(() => toolchainOverridesFromEnv({ NX_MIRAGE_OPAM_REPOSITORY: 'ftp://x' })).not.toThrow(/nx\.json \(plugins entry/);
  });
});
