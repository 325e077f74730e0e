/**
 * `nx run NAME:verify`: does the unikernel build reproducibly? Two builds from scratch, one after the other,
 * each in an empty build directory of its own with a workspace of only the contexts its target needs and
 * dune's cache off; Nx never caches the task. Both run at one path, `_build.verify` below the dune root (the
 * first is moved aside to `_build.verify-1` before the second starts): the C and assembler debug information
 * records the absolute build directory, so builds at two paths always differ, and reproducible MirageOS
 * builds (orb) rebuild at the recorded path. Equal artifacts pass; otherwise the sizes, digests and the first
 * differing byte with the ELF section holding it are printed, both builds are kept for a closer look, and the
 * task fails. The build directories are removed at the end.
 */
import type { ExecutorContext } from '@nx/devkit';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactFileName, buildCommand, builtArtifactPath, compareBuilds, duneRootProjectRoot, mismatchMessage } from '../../domain';
import { runCommand } from '../../adapters/process';
import { prepareDuneRoot, removeTemporaryWorkspace, temporaryWorkspace, underDuneRootLock } from '../dune-root';
import { logger } from '../log';
import { ExecutorError, guarded, parseOptions, unikernelOf } from '../shared';
import { schema as verifySchema, type VerifyOptions } from './schema';

const BUILD_DIR = '_build.verify';
const BUILDS = [`${BUILD_DIR}-1`, `${BUILD_DIR}-2`];

export default async function verifyExecutor(raw: VerifyOptions, context: ExecutorContext) {
  return guarded(async () => {
    const options = parseOptions(verifySchema, raw, 'verify');
    const u = unikernelOf(context, options);
    const artifact = options.artifact ?? artifactFileName(u.name, u.target);
    const root = join(context.root, options.duneRoot);
    return underDuneRootLock(root, options.duneRoot, async () => {
      await prepareDuneRoot(context, options.duneRoot);
      const workspace = await temporaryWorkspace([u.target]);
      try {
        const images: Buffer[] = [];
        for (const [i, keptAs] of BUILDS.entries()) {
          await Promise.all([BUILD_DIR, keptAs].map((d) => rm(join(root, d), { recursive: true, force: true })));
          logger.info(`nx-mirage: ${u.project}: build ${i + 1} of 2, from scratch in ${BUILD_DIR} (dune cache off)`);
          const built = await runCommand(buildCommand({ unikernels: [u], workspaceFile: workspace, buildDir: BUILD_DIR }), { cwd: root, env: { DUNE_CACHE: 'disabled' }, capture: 'tee', purpose: `to build ${u.project}` });
          if (built.exitCode !== 0) throw new ExecutorError(`${u.project}: build ${i + 1} of 2 failed (dune exited with ${built.exitCode}); fix the build first (nx build ${u.project})`);
          await rename(join(root, BUILD_DIR), join(root, keptAs));
          images.push(await readFile(join(root, builtArtifactPath(u, keptAs))));
        }
        const c = compareBuilds(images[0]!, images[1]!);
        if (c.same) {
          logger.info(`nx-mirage: ${artifact} builds reproducibly: twice from scratch at one build path, ${c.image.size} bytes, sha256 ${c.image.sha256}`);
          return true;
        }
        const kept = join(context.root, duneRootProjectRoot(options.duneRoot), 'verify', u.project);
        await rm(kept, { recursive: true, force: true });
        await mkdir(kept, { recursive: true });
        for (const [i, buildDir] of BUILDS.entries()) await copyFile(join(root, builtArtifactPath(u, buildDir)), join(kept, `${artifact}.${i + 1}`));
        logger.error(`${mismatchMessage(artifact, c)}\nBoth builds are kept in ${join(duneRootProjectRoot(options.duneRoot), 'verify', u.project)}/ for a closer look (for example with diffoscope).`);
        return false;
      } finally {
        await removeTemporaryWorkspace(workspace);
        await Promise.all([BUILD_DIR, ...BUILDS].map((d) => rm(join(root, d), { recursive: true, force: true })));
      }
    });
  }, context);
}
