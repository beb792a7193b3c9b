import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedLog } from '../../src/db/embedded.js';
import { connect } from '../../src/db/sql.js';
import { freePort } from '../support/ports.js';

// The postgres user must reach the directory, so not mkdtemp's private 0700 one under /root.
const dir = fs.mkdtempSync(path.join('/var/tmp', 'nl-embedded-test-'));
fs.chmodSync(dir, 0o755);
const dataDir = path.join(dir, 'pg');
let port = 0;
const reachable = !process.env.DATABASE_URL || process.env.NETLEDGER_TEST_EMBEDDED === '1';

beforeAll(async () => {
  port = await freePort();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const quiet = { info: () => {}, warn: () => {}, error: () => {} } as unknown as EmbeddedLog;

async function rows(url: string): Promise<number[]> {
  const sql = connect(url, { max: 1 });
  try {
    return (await sql<{ n: number }[]>`select n from kept order by n`).map((r) => r.n);
  } finally {
    await sql.end();
  }
}

// Skipped only where CI could not reach the embedded binaries and runs on Debian's PostgreSQL.
describe.skipIf(!reachable)('embedded PostgreSQL', () => {
  it('initialises, keeps data across a restart, and recovers after its owner was SIGKILLed', async () => {
    const first = await startEmbeddedPostgres({ dataDir, port });
    const sql = connect(first.url, { max: 1 });
    await sql`create table kept (n int)`;
    await sql`insert into kept values (1), (2)`;
    await sql.end();

    // Another netledger process (a CLI command beside `npm start`) shares the running server and
    // leaves it running when it exits, instead of taking it for an orphan.
    const sharer = path.join(dir, 'sharer.mts');
    fs.writeFileSync(
      sharer,
      `import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve('src/db/embedded.ts'))};
      import { connect } from ${JSON.stringify(path.resolve('src/db/sql.ts'))};
      const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port + 1} });
      const sql = connect(db.url, { max: 1 }); const [r] = await sql\`select count(*)::int as n from kept\`; console.log('rows', r.n);
      await sql.end(); await db.stop();`,
    );
    const shared = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', sharer], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sharer exited ${code}`))));
    });
    expect(shared).toContain('rows 2');
    expect(await rows(first.url)).toEqual([1, 2]);
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir, port });
    expect(await rows(second.url)).toEqual([1, 2]);
    await second.stop();

    // A process that starts the server and is then killed outright leaves an orphaned postmaster.
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve('src/db/embedded.ts'))};
      await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} }); console.log('up'); setInterval(() => {}, 1000);`;
    const scriptFile = path.join(dir, 'owner.mts');
    fs.writeFileSync(scriptFile, script);
    const child = spawn(process.execPath, ['--import', 'tsx', scriptFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      child.on('exit', (code) => reject(new Error(`owner exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(true);

    const third = await startEmbeddedPostgres({ dataDir, port });
    expect(await rows(third.url)).toEqual([1, 2]);
    await third.stop();
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 300_000);

  it('restarts its server when the postmaster is killed, and says so', async () => {
    const said: string[] = [];
    const log = {
      info: () => {},
      warn: (_: object, m: string) => said.push(m),
      error: (_: object, m: string) => said.push(m),
    } as unknown as EmbeddedLog;
    const db = await startEmbeddedPostgres({ dataDir, port, log });
    try {
      const postmaster = () => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const killed = postmaster();
      process.kill(killed, 'SIGKILL');
      // Generous: the old backends must notice first, and the restart backs off.
      const deadline = Date.now() + 90_000;
      let back: number[] | null = null;
      while (!back && Date.now() < deadline) {
        back = await rows(db.url).catch(() => null);
        if (!back) await new Promise((r) => setTimeout(r, 200));
      }
      expect(back).toEqual([1, 2]);
      expect(postmaster()).not.toBe(killed);
      expect(said).toContain('embedded PostgreSQL exited unexpectedly; restarting it');
    } finally {
      await db.stop();
    }
  }, 300_000);

  it('replaces the old default superuser password with a random one kept in a private file', async () => {
    const passwordFile = `${dataDir}.password`;
    // A data directory from before: password 'postgres', no password file.
    const before = await startEmbeddedPostgres({ dataDir, port, log: quiet });
    const admin = connect(before.url, { max: 1 });
    await admin`alter role postgres password 'postgres'`;
    await admin.end();
    await before.stop();
    fs.rmSync(passwordFile);

    const after = await startEmbeddedPostgres({ dataDir, port, log: quiet });
    try {
      expect(fs.statSync(passwordFile).mode & 0o777).toBe(0o600);
      const password = fs.readFileSync(passwordFile, 'utf8').trim();
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(new URL(after.url).password).toBe(password);
      expect(await rows(after.url)).toEqual([1, 2]);
      const old = new URL(after.url);
      old.password = 'postgres';
      await expect(rows(old.toString())).rejects.toThrow(/password authentication failed/);
    } finally {
      await after.stop();
    }
  }, 300_000);

  it('a first start killed while initdb runs leaves nothing the next start trips over', async () => {
    const fresh = path.join(dir, 'interrupted');
    const [starterPort, nextPort] = [await freePort(), await freePort()];
    const starter = path.join(dir, 'starter.mts');
    fs.writeFileSync(
      starter,
      `import { startEmbeddedPostgres } from ${JSON.stringify(path.resolve('src/db/embedded.ts'))};
      await startEmbeddedPostgres({ dataDir: ${JSON.stringify(fresh)}, port: ${starterPort} });`,
    );
    // Its own process group, so the kill takes initdb with it, as a power cut would.
    const child = spawn(process.execPath, ['--import', 'tsx', starter], { stdio: 'ignore', detached: true });
    const started = Date.now();
    const midInit = () => [fresh, `${fresh}.initdb`].some((d) => fs.existsSync(path.join(d, 'PG_VERSION')));
    while (!midInit() && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 5));
    expect(midInit()).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));

    const db = await startEmbeddedPostgres({ dataDir: fresh, port: nextPort, log: quiet });
    try {
      const sql = connect(db.url, { max: 1 });
      expect((await sql<{ n: number }[]>`select 1 as n`)[0]!.n).toBe(1);
      await sql.end();
      expect(fs.readFileSync(`${fresh}.password`, 'utf8').trim()).toBe(new URL(db.url).password);
    } finally {
      await db.stop();
    }
  }, 300_000);
});

describe('embedded PostgreSQL prerequisites', () => {
  it('explains what to do when the postgres user cannot reach the binaries', async () => {
    const { checkEmbeddedReachable } = await import('../../src/db/embedded.js');
    const insideRoot = fs.statSync('/root').mode & 0o001 ? null : '/root';
    if (process.cwd().startsWith('/root/') && insideRoot) {
      expect(() => checkEmbeddedReachable()).toThrow(/cannot reach .*Move the checkout|DATABASE_URL/);
    } else {
      expect(() => checkEmbeddedReachable()).not.toThrow();
    }
  });
});
