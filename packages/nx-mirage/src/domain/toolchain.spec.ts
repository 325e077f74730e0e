import { describe, expect, it } from 'vitest';
import {
  guardRequirement,
  mergeRequirements,
  predictedSwitchPackages,
  readInstalledVersions,
  readOpamEnvSexp,
  readSwitchDependencies,
  renderToolchainOpamFile,
  toolchainKey,
  toolchainVersionFiles,
  toolchainVersionsGlob,
} from './toolchain';

const GENERATED = `opam-version: "2.0"
depends: [
  "mirage" { build & >= "4.11.0" & < "4.12.0" }
  "opam-monorepo" { build & >= "0.3.2" }
  "lwt" { ?monorepo }
  "mirage-solo5" { ?monorepo & >= "0.10.0" & < "0.11.0" }
  "ocaml-solo5" { build & >= "0.8.2" & < "2.0.0" }
  "solo5" { build & >= "0.7.5" & < "0.13.0" }
]
x-opam-monorepo-opam-provided: ["mirage" "ocaml-solo5" "opam-monorepo" "solo5"]
`;

describe('switch requirements', () => {
  it('reads the switch-scope (build) dependencies of a generated opam file, not the monorepo ones', () => {
    expect(readSwitchDependencies(GENERATED)).toEqual([
      { name: 'mirage', constraint: '>= "4.11.0" & < "4.12.0"' },
      { name: 'opam-monorepo', constraint: '>= "0.3.2"' },
      { name: 'ocaml-solo5', constraint: '>= "0.8.2" & < "2.0.0"' },
      { name: 'solo5', constraint: '>= "0.7.5" & < "0.13.0"' },
    ]);
  });

  it('predicts what mirage 4.11.1 generates, so the key does not change once configure has run', () => {
    const predicted = mergeRequirements([predictedSwitchPackages('hvt')]);
    const afterConfigure = mergeRequirements([predicted, readSwitchDependencies(GENERATED)]);
    expect(afterConfigure).toEqual(predicted);
    expect(predicted.map((p) => p.name)).toEqual(['dune', 'mirage', 'ocaml-solo5', 'ocamlfind', 'opam-monorepo', 'solo5']);
    expect(predictedSwitchPackages('unix').map((p) => p.name)).toEqual(['mirage', 'opam-monorepo', 'dune', 'ocamlfind']);
    expect(predictedSwitchPackages('unikraft-qemu').map((p) => p.name).slice(4)).toEqual(['ocaml-unikraft', 'ocaml-unikraft-backend-qemu']);
    expect(predictedSwitchPackages('unikraft-firecracker').map((p) => p.name).slice(4)).toEqual(['ocaml-unikraft', 'ocaml-unikraft-backend-firecracker']);
  });

  it('joins the constraints of several unikernels, with a config.ml version guard on mirage', () => {
    const guard = guardRequirement([{ op: '>=', version: '4.9.0' }, { op: '<', version: '4.12.0' }])!;
    expect(mergeRequirements([predictedSwitchPackages('unix'), [guard]]).find((p) => p.name === 'mirage')).toEqual({
      name: 'mirage',
      constraint: '>= "4.11.0" & < "4.12.0" & >= "4.9.0"',
    });
  });

  it('keys the set of packages, constraints, compiler and repositories, not their order', () => {
    const repositories = [{ name: 'default', url: 'https://opam.ocaml.org' }];
    const a = { compiler: 'ocaml-base-compiler.5.4.1', repositories, packages: predictedSwitchPackages('hvt') };
    const b = { ...a, packages: [...a.packages].reverse() };
    expect(toolchainKey(a)).toBe(toolchainKey(b));
    expect(toolchainKey({ ...a, compiler: 'ocaml-system' })).not.toBe(toolchainKey(a));
    expect(toolchainKey({ ...a, packages: predictedSwitchPackages('unix') })).not.toBe(toolchainKey(a));
    expect(toolchainKey({ ...a, repositories: [{ name: 'default', url: 'file:///mirror' }] })).not.toBe(toolchainKey(a));
    expect(renderToolchainOpamFile(a)).toContain('  "solo5" { >= "0.7.5" & < "0.13.0" }\n');
  });
});

describe('opam output', () => {
  it('reads installed versions, leaving out packages not asked for and not installed', () => {
    expect(readInstalledVersions('dune 2.9.3\nmirage 4.11.1\nlwt 5.7.0\nsolo5 --\n', ['mirage', 'dune', 'solo5'])).toEqual({ dune: '2.9.3', mirage: '4.11.1' });
  });

  it('reads `opam env --sexp`', () => {
    expect(readOpamEnvSexp('(\n  ("OPAMROOT" "/r")\n  ("PATH" "/r/s/bin:@P@")\n  ("X" "a \\"b\\"")\n)\n')).toEqual({ OPAMROOT: '/r', PATH: '/r/s/bin:@P@', X: 'a "b"' });
  });
});

describe('version files of the toolchain record', () => {
  const path = { source: 'path' as const, versions: { mirage: '4.11.1', dune: '2.9.3', ocaml: '4.13.1', 'ocamlfind -toolchain solo5': '4.13.1' } };

  it('gives each tool on PATH a file of its own, so a build hashes only the tools it runs', () => {
    expect(toolchainVersionFiles(path)).toEqual({ source: 'path\n', mirage: '4.11.1\n', dune: '2.9.3\n', ocaml: '4.13.1\n', 'cross-solo5': '4.13.1\n' });
    // A tool without a version (mirage, with libraries alone) has no file.
    expect(Object.keys(toolchainVersionFiles({ source: 'path', versions: { dune: '2.9.3', ocaml: '4.13.1' } })).sort()).toEqual(['dune', 'ocaml', 'source']);
  });

  it('keeps a managed switch whole: its key, compiler and package versions reach every build', () => {
    const managed = toolchainVersionFiles({ source: 'managed', key: 'aef78d149d34eb3c', compiler: 'ocaml-system', versions: { mirage: '4.11.1', 'ocaml-solo5': '1.3.2' } });
    expect(Object.keys(managed)).toEqual(['source']);
    expect(managed['source']).toContain('aef78d149d34eb3c');
    expect(managed['source']).toContain('"ocaml-solo5": "1.3.2"');
  });

  it('matches the source and the files of the tools asked for, once each', () => {
    expect(toolchainVersionsGlob(['mirage', 'dune', 'ocaml', 'solo5'])).toBe('.nx-mirage/versions/{source,mirage,dune,ocaml,cross-solo5}');
    expect(toolchainVersionsGlob(['dune', 'ocaml', 'unikraft', 'ocaml'])).toBe('.nx-mirage/versions/{source,dune,ocaml,cross-unikraft}');
  });
});
