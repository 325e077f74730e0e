/**
 * Runs external programs with argument vectors (never through a shell), in the foreground, and turns a
 * missing program into a message that says how to install it.
 */
import { execa } from 'execa';
import { constants as osConstants } from 'node:os';
import { missingToolMessage, type Command } from '../domain';

export class ToolError extends Error {
  override name = 'ToolError';
}

export interface RunOptions {
  cwd: string;
  /** Extra environment on top of this process's. */
  env?: Record<string, string | undefined>;
  /** What the command is for, for the missing-tool message: "to configure apps/hello". */
  purpose?: string;
  /** Inherit stdio (default), capture output silently, or `tee`: show it and capture it. */
  capture?: boolean | 'tee';
}

export interface RunResult {
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved, when captured. */
  all: string;
}

/** The commands runCommand is waiting for, so that a long-lived executor (serve) can stop them when it stops. */
const running = new Set<{ kill: (signal?: NodeJS.Signals) => boolean }>();

/** Sends `signal` to every command runCommand is waiting for (dune during a rebuild, mirage during configure). */
export function stopRunningCommands(signal: NodeJS.Signals = 'SIGTERM'): number {
  for (const child of running) child.kill(signal);
  return running.size;
}

export async function runCommand(command: Command, options: RunOptions): Promise<RunResult> {
  const subprocess = execa(command.file, command.args, {
    cwd: options.cwd,
    env: { ...command.env, ...options.env },
    ...(options.capture === 'tee'
      ? { stdin: 'ignore' as const, stdout: ['pipe', 'inherit'] as ['pipe', 'inherit'], stderr: ['pipe', 'inherit'] as ['pipe', 'inherit'], all: true }
      : options.capture
        ? { stdin: 'ignore' as const, stdout: 'pipe' as const, stderr: 'pipe' as const, all: true }
        : { stdio: 'inherit' as const }),
    reject: false,
    stripFinalNewline: true,
  });
  running.add(subprocess);
  const result = await subprocess.finally(() => running.delete(subprocess));
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new ToolError(missingToolMessage(command.file, options.purpose));
  }
  return {
    exitCode: result.exitCode ?? (result.signal ? 128 : 1),
    signal: result.signal ?? undefined,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
    all: String((result as { all?: unknown }).all ?? ''),
  };
}

/** Output of a short command (run in `env` when given, else this process's), or undefined when the program is missing or fails. */
export async function probe(file: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const r = await execa(file, args, { cwd, reject: false, timeout: 30_000, ...(env ? { env, extendEnv: false } : {}) });
    return r.exitCode === 0 ? String(r.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a long-lived program in the foreground (a unikernel or its tender): its stdio is the terminal's, and
 * SIGINT, SIGTERM and SIGHUP sent to this process are passed on to it. Returns its exit code (128 + signal
 * number when a signal ended it).
 */
export async function runForwardingSignals(command: Command, options: RunOptions): Promise<number> {
  const child = execa(command.file, command.args, { cwd: options.cwd, env: { ...command.env, ...options.env }, stdio: 'inherit', reject: false });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const result = await child;
    if ((result as { code?: string }).code === 'ENOENT') throw new ToolError(missingToolMessage(command.file, options.purpose));
    if (result.exitCode !== undefined) return result.exitCode;
    const signal = result.signal ? (osConstants.signals as Record<string, number>)[result.signal] : undefined;
    return 128 + (signal ?? 1);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

/**
 * Inside a git repository whose HEAD does not resolve (no commit yet), in one git call: `rev-parse --verify
 * --quiet HEAD` exits 0 on a commit, 1 in a repository without one and 128 outside any repository. False
 * when git is not installed.
 */
export async function gitRepositoryWithoutCommit(cwd: string): Promise<boolean> {
  try {
    return (await runCommand({ file: 'git', args: ['rev-parse', '--verify', '--quiet', 'HEAD'] }, { cwd, capture: true })).exitCode === 1;
  } catch (e) {
    if (e instanceof ToolError) return false;
    throw e;
  }
}
