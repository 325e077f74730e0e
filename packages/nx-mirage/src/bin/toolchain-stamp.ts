/**
 * Runtime input of the cached `toolchain` target (toolchain modes "auto" and "managed"): prints the digest
 * of the toolchain stamp while it holds, else a fresh value. Nx runs it once per run, at the workspace root.
 */
import { toolchainStampDigest } from '../adapters/stamp';
import { packageInfo } from '../utils/package-info';

toolchainStampDigest(process.cwd()).then(
  // The plugin version too: its record format is part of what the cached task restores.
  (digest) => process.stdout.write(`nx-mirage ${packageInfo().version} ${digest}\n`),
  (e: unknown) => {
    process.stdout.write(`unchecked ${Date.now()} ${Math.random()}\n`);
    process.stderr.write(`nx-mirage: could not check the toolchain stamp: ${(e as Error).message}\n`);
  },
);
