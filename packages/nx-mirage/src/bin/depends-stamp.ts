/**
 * Runtime input of the cached `pull` target: prints the digest of the dune root's dependencies stamp while
 * it holds, else a fresh value. Its one argument is the stamp's identifier (hex digits), never a path.
 */
import { DEPENDS_ENV, dependsStampPath, isDependsStampId } from '../domain/depends-stamp';
import { stampDigest } from '../adapters/stamp';
import { packageInfo } from '../utils/package-info';

const id = process.argv[2] ?? '';
const unchecked = (why: string) => {
  process.stdout.write(`unchecked ${Date.now()} ${Math.random()}\n`);
  process.stderr.write(`nx-mirage: could not check the dependencies stamp: ${why}\n`);
};

if (!isDependsStampId(id)) unchecked(`expected a stamp identifier of 16 hex digits, got ${JSON.stringify(id)}`);
else stampDigest(process.cwd(), dependsStampPath(id), DEPENDS_ENV).then((digest) => process.stdout.write(`nx-mirage ${packageInfo().version} ${digest}\n`), (e: unknown) => unchecked((e as Error).message));
