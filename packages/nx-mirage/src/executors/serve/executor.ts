/**
 * `nx serve NAME`: the unikernel development loop. Configures and builds the unikernel for a target this
 * machine runs (through the same dune root, lock and build as `nx build`), runs it, watches its sources (its
 * directory, the local libraries it uses, config.ml, the directories it embeds), and on a change rebuilds
 * (configuring first when config.ml changed), prints how long that took, and restarts it. Ctrl-C or SIGTERM
 * stops the unikernel, the watcher and any dune or mirage run, and releases the dune root lock.
 */
import type { ExecutorContext } from '@nx/devkit';
import { accessSync, constants } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { isSourceChange, missingToolMessage, needsConfigure, serveTarget, type MirageTarget } from '../../domain';
import { stopRunningCommands } from '../../adapters/process';
import { findOnPathSync } from '../../adapters/path-lookup';
import { BuildSession, buildProjects } from '../build/build-unikernels';
import { configureUnikernels } from '../configure/configure-unikernels';
import { prepareRun } from '../run/prepare';
import { logger } from '../log';
import { isUserError, parseOptions, unikernelOf, type LocatedUnikernel } from '../shared';
import { useToolchain } from '../use-toolchain';
import { schema as serveSchema, type ServeOptions } from './schema';

type Options = ReturnType<typeof parseOptions<typeof serveSchema>>;

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export default async function* serveExecutor(raw: ServeOptions, context: ExecutorContext): AsyncGenerator<{ success: boolean }> {
  let session: ServeSession;
  try {
    await useToolchain(context, (line) => logger.info(line));
    const options = parseOptions(serveSchema, raw, 'serve');
    const own = unikernelOf(context, options);
    const chosen = serveTarget(own.target, { onPath: (p) => findOnPathSync(p) !== null, kvm: kvmUsable() }, options.serveTarget);
    session = new ServeSession(context, options, { ...own, target: chosen.target });
    logger.info(`nx-mirage: serving ${own.project} as ${chosen.target} (${chosen.reason}); watching ${options.watch.join(', ') || own.dir}. Ctrl-C stops.`);
  } catch (e) {
    if (!isUserError(e)) throw e;
    logger.error(e.message);
    yield { success: false };
    return;
  }
  const first = await session.start();
  yield { success: first };
  yield { success: await session.stopped };
}

class ServeSession {
  private child: ResultPromise | undefined;
  private watcher: { close(): Promise<void> } | undefined;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private stopping = false;
  /** dune's environment and the toolchain checks, kept between rebuilds (BuildSession). */
  private readonly builds = new BuildSession();
  private finish!: (ok: boolean) => void;
  readonly stopped = new Promise<boolean>((r) => (this.finish = r));
  constructor(
    private readonly context: ExecutorContext,
    private readonly options: Options,
    private readonly u: LocatedUnikernel,
  ) {}

  /** The first build and run, then the watcher and the signal handlers; true when the unikernel started. */
  async start(): Promise<boolean> {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => void this.stop(s));
    // Watching starts first: a change made while the first build runs is not lost, it rebuilds once that is done.
    await this.watch();
    const ok = await this.runCycle('start', true);
    if (this.pending.size > 0) void this.drain();
    return ok;
  }

  private async watch() {
    const { watch } = await import('chokidar');
    const root = this.context.root;
    const dirs = (this.options.watch.length ? this.options.watch : [relative(root, resolve(root, this.u.dir)) || '.']).map((d) => resolve(root, d));
    const rel = (p: string) => relative(root, p).split(sep).join('/');
    const watcher = watch(dirs, {
      ignoreInitial: true,
      ignored: (p: string) => {
        const r = rel(p);
        return r !== '' && !r.startsWith('..') && !isSourceChange(r, this.unikernelRoot());
      },
    });
    watcher.on('all', (_event: string, path: string) => this.changed(rel(path)));
    watcher.on('error', (e: unknown) => logger.warn(`nx-mirage: watching failed: ${(e as Error).message}`));
    this.watcher = watcher;
    await new Promise<void>((r) => watcher.once('ready', () => r()));
  }

  private unikernelRoot(): string {
    return relative(this.context.root, resolve(this.u.root, this.u.dir)).split(sep).join('/') || '.';
  }

  private changed(path: string) {
    if (this.stopping) return;
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), this.options.debounce);
  }

  /** Rebuilds for the changes seen so far; changes during a rebuild start another once it is done. */
  private async drain() {
    if (this.cycle || this.stopping || this.pending.size === 0) return;
    const changes = [...this.pending].sort();
    this.pending.clear();
    const configure = changes.some((c) => needsConfigure(c, this.unikernelRoot()));
    const shown = changes.length > 3 ? `${changes.slice(0, 3).join(', ')} and ${changes.length - 3} more` : changes.join(', ');
    await this.runCycle(shown, configure);
    if (this.pending.size > 0) void this.drain();
  }

  private async runCycle(reason: string, configure: boolean): Promise<boolean> {
    let done!: () => void;
    this.cycle = new Promise<void>((r) => (done = r));
    const started = Date.now();
    try {
      if (configure) {
        this.builds.forget();
        const outcome = (await configureUnikernels([{ id: 'serve', unikernel: this.u, duneRoot: this.options.duneRoot, flags: this.options.configureFlags }], this.context, false)).get('serve');
        if (!outcome?.success) return this.waitForChanges('configure failed');
      }
      if (this.stopping) return false;
      await this.stopUnikernel();
      const built = (await buildProjects([{ id: 'serve', unikernel: this.u, duneRoot: this.options.duneRoot }], this.context, this.builds)).get('serve');
      if (this.stopping) return false;
      if (!built?.success) {
        this.builds.forget();
        return this.waitForChanges('the build failed');
      }
      const ms = Date.now() - started;
      logger.info(reason === 'start' ? `nx-mirage: ${this.u.project} built in ${ms} ms` : `nx-mirage: ${this.u.project} rebuilt in ${ms} ms (${reason}); restarting`);
      await this.startUnikernel();
      return true;
    } catch (e) {
      if (!isUserError(e)) throw e;
      this.builds.forget();
      logger.error(e.message);
      return this.waitForChanges('it could not start');
    } finally {
      this.cycle = undefined;
      done();
    }
  }

  private waitForChanges(what: string): false {
    if (!this.stopping) logger.warn(`nx-mirage: ${this.u.project}: ${what}; waiting for changes`);
    return false;
  }

  private async startUnikernel() {
    const { command, cwd, shown } = await prepareRun(this.u, { ...this.options, target: this.u.target as MirageTarget });
    const child = execa(command.file, command.args, { cwd, env: command.env, stdio: 'inherit', reject: false });
    this.child = child;
    void child.then((result) => {
      if (this.child !== child) return; // stopped on purpose
      this.child = undefined;
      if ((result as { code?: string }).code === 'ENOENT') logger.error(missingToolMessage(command.file, `to run ${shown}`));
      else if (!this.stopping) logger.info(`nx-mirage: ${shown} exited (${result.signal ?? `code ${result.exitCode}`}); waiting for changes`);
    });
  }

  private async stopUnikernel() {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await child.catch(() => undefined);
    clearTimeout(killer);
  }

  /** Stops everything: the watcher, a rebuild's dune or mirage, the unikernel; the dune root lock is released as the rebuild ends. */
  async stop(signal: NodeJS.Signals) {
    if (this.stopping) return;
    this.stopping = true;
    logger.info(`nx-mirage: ${signal}: stopping ${this.u.project}`);
    clearTimeout(this.timer);
    stopRunningCommands('SIGTERM');
    await Promise.all([this.watcher?.close(), this.stopUnikernel(), this.cycle]);
    this.finish(true);
  }
}
