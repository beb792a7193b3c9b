import { spawn, type ChildProcess } from 'node:child_process';

/** `netledger serve` as a child process, the way an operator runs it. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port> */
  readonly base: string;
  readonly adminToken: string;
  /** Everything it wrote to stderr (JSON log lines) so far. */
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number). */
  readonly exited: Promise<number>;
  gql<T = any>(
    token: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } }>;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `serve` with `env` over DATABASE_URL (no agent, ephemeral port) and waits until it listens. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 180_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', NETLEDGER_AGENT: 'off', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0))),
  );
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start listening:\n${err}`)), timeoutMs);
    const look = () => {
      const m =
        /"url":"(http:\/\/[^"]+)\/graphql".*"msg":"netledger API listening"|"msg":"netledger API listening".*"url":"(http:\/\/[^"]+)\/graphql"/.exec(
          err,
        );
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', look);
        resolve((m[1] ?? m[2])!);
      }
    };
    child.stderr!.on('data', look);
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${err}`)));
  });
  const token = /^\s+(nl_\S+)\s*$/m.exec(out)?.[1];
  if (!token) throw new Error(`no admin token printed (is the database fresh?):\n${out}`);
  return {
    child,
    base,
    adminToken: token,
    stderr: () => err,
    exited,
    async gql(tok, query, variables = {}) {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
