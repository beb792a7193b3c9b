import { execa } from 'execa';
import type { Logger } from 'pino';
import { silentLogger } from './logger.js';

export interface RunOptions {
  /** Whether the command may change host state. Read-only probes pass false. */
  readonly mutating: boolean;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Throw on a non-zero exit (default true). */
  readonly reject?: boolean;
  /** Send stdout/stderr to this file instead of pipes: for daemons that would hold pipes open. */
  readonly logFile?: string;
  /** The daemon this command starts: its starts are counted (operators watch restarts). */
  readonly daemon?: Daemon;
}

/** The long-running processes the agent starts and keeps running. */
export const DAEMONS = ['haproxy', 'dnsmasq', 'keepalived', 'radvd', 'charon'] as const;
export type Daemon = (typeof DAEMONS)[number];

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${command} exited ${exitCode}: ${stderr.trim().slice(0, 2000)}`);
    this.name = 'CommandError';
  }
}

export interface CommandCounts {
  /** Every child process started. */
  commands: number;
  /** Child processes that may change host state. */
  mutatingCommands: number;
  /** Changes made in-process: files written, signals sent. */
  inProcessMutations: number;
}

/**
 * The one door to the host: every process the agent starts goes through `run`, every in-process
 * change through `mutate`, so "a converged pass changes nothing" is a counter check.
 */
export class CommandRunner {
  readonly counts: CommandCounts = { commands: 0, mutatingCommands: 0, inProcessMutations: 0 };
  /** Starts of each daemon, first ones and restarts (one found dead, or whose change needs a new process). */
  readonly daemonStarts = new Map<Daemon, number>();

  constructor(private readonly logger: Logger = silentLogger) {}

  /** Mutating child processes plus in-process mutations. */
  get mutations(): number {
    return this.counts.mutatingCommands + this.counts.inProcessMutations;
  }

  async run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    this.counts.commands += 1;
    if (options.mutating) this.counts.mutatingCommands += 1;
    if (options.daemon) this.daemonStarts.set(options.daemon, (this.daemonStarts.get(options.daemon) ?? 0) + 1);
    const started = performance.now();
    const logFile = options.logFile;
    const common = { reject: false, timeout: options.timeoutMs ?? 60_000, stripFinalNewline: false } as const;
    // A daemon inherits our stdio: hand it the log file instead of pipes that execa would wait on.
    const [cmd, argv] =
      logFile !== undefined ? ['sh', ['-c', 'exec "$@" </dev/null >>"$0" 2>&1', logFile, file, ...args]] : [file, [...args]];
    const result = await execa(cmd, argv, { ...common, input: options.input ?? '' });
    const exitCode = result.exitCode ?? (result.timedOut ? 124 : 1);
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    const command = `${file} ${args.join(' ')}`.slice(0, 200);
    this.logger.debug({ command, mutating: options.mutating, exitCode, ms: Math.round(performance.now() - started) }, 'exec');
    if (exitCode !== 0 && options.reject !== false) {
      throw new CommandError(command, exitCode, stderr || stdout);
    }
    return { exitCode, stdout, stderr };
  }

  async mutate<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
    this.counts.inProcessMutations += 1;
    this.logger.debug({ mutation: label }, 'mutate');
    return fn();
  }
}
