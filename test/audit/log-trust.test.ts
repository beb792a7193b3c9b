import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../../src/db/sql.js';
import { ensureAppRole } from '../../src/store/app-role.js';
import { EventStore } from '../../src/store/event-store.js';
import { loadOrCreateAuditKey, type AuditKey } from '../../src/store/seal/audit-key.js';
import { sealLog } from '../../src/store/seal/log-chain.js';
import { listCheckpoints, signCheckpoint } from '../../src/store/seal/signed-checkpoints.js';
import { verifyLog, type LogReport } from '../../src/audit/verify-log.js';
import { startServices } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, logSettled, type TestDatabase } from '../support/db.js';
import { testRegistry } from '../support/test-events.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nl-logtrust-'));
let key: AuditKey;
beforeAll(() => {
  key = loadOrCreateAuditKey(path.join(dataDir, 'audit-key.pem'));
});
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Log {
  db: TestDatabase;
  /** The server's pool: the app role. */
  app: Sql;
  store: EventStore;
  a: string;
  b: string;
  close(): Promise<void>;
}

const ping = (n: number) => ({ type: 'Pinged', data: { n, writer: 'w' } });

/** A database with two streams of three events, sealed and signed, and the app role's pool. */
async function sealedLog(): Promise<Log> {
  const db = await createTestDatabase();
  const app = connect(await ensureAppRole(db.sql, db.url, { dataDir }), { max: 4 });
  const store = new EventStore(app, testRegistry());
  const a = `test-${randomUUID()}`;
  const b = `test-${randomUUID()}`;
  for (let i = 1; i <= 3; i++) {
    await store.append(a, i - 1, [ping(i)]);
    await store.append(b, i - 1, [ping(i)]);
  }
  await logSettled(app);
  expect(await sealLog(app)).toBe(6);
  expect(await signCheckpoint(app, key)).not.toBeNull();
  return {
    db,
    app,
    store,
    a,
    b,
    async close() {
      await app.end({ timeout: 5 });
      await db.drop();
    },
  };
}

async function eventId(sql: Sql, stream: string, version: number): Promise<string> {
  const [row] = await sql<
    { event_id: string }[]
  >`select event_id from nl_events where stream_id = ${stream} and stream_version = ${version}`;
  return row!.event_id;
}

/** As the owner: the trigger lifted for the statements of `fn` only. */
async function tamper(db: TestDatabase, fn: (tx: Sql) => Promise<unknown>): Promise<void> {
  await db.sql.begin(async (tx) => {
    await tx`alter table nl_events disable trigger nl_events_no_update`;
    await fn(tx as unknown as Sql);
    await tx`alter table nl_events enable trigger nl_events_no_update`;
  });
}

/** Recomputes a stream's per-stream hashes from `fromVersion` on, as a careful forger would. */
async function rehash(tx: Sql, stream: string, fromVersion: number): Promise<void> {
  const rows = await tx<
    { stream_version: bigint }[]
  >`select stream_version from nl_events where stream_id = ${stream} and stream_version >= ${fromVersion} order by stream_version`;
  for (const r of rows) {
    await tx`update nl_events e set prev_hash = coalesce((select p.hash from nl_events p where p.stream_id = e.stream_id and p.stream_version = e.stream_version - 1), ''::bytea),
               hash = nl_event_hash(coalesce((select p.hash from nl_events p where p.stream_id = e.stream_id and p.stream_version = e.stream_version - 1), ''::bytea),
                                    e.event_id, e.event_type, e.schema_version, e.data, e.metadata)
              where e.stream_id = ${stream} and e.stream_version = ${r.stream_version}`;
  }
}

const kinds = (r: LogReport) => r.problems.map((p) => `${p.kind}:${p.eventId ?? '-'}`);

describe('least privilege', () => {
  let log: Log;
  beforeAll(async () => {
    log = await sealedLog();
  });
  afterAll(async () => log.close());

  it('the app role can read and append but cannot rewrite the log, lift its trigger or alter a table', async () => {
    const { app, a } = log;
    const [{ who }] = (await app<{ who: string }[]>`select current_user as who`) as unknown as [{ who: string }];
    expect(who).toMatch(/_app$/);
    await log.store.append(a, 3, [ping(4)]);
    expect((await log.store.readStream(a)).length).toBe(4);
    const attempts = [
      'alter table nl_events disable trigger nl_events_no_update',
      'alter table nl_events disable trigger all',
      'drop trigger nl_events_no_update on nl_events',
      `update nl_events set data = '{}'`,
      'delete from nl_events',
      'truncate nl_events',
      'alter table nl_events add column x int',
      'drop table nl_events',
      `update nl_log_chain set link = ''`,
      'delete from nl_log_chain',
      'delete from nl_audit_checkpoints',
      'truncate nl_audit_checkpoints',
      'delete from nl_streams',
      'create or replace function nl_events_append_only() returns trigger language plpgsql as $$ begin return null; end $$',
      'set session_replication_role = replica',
      'create table rm_evil (x int)',
    ];
    for (const statement of attempts) {
      const err = await app.unsafe(statement).then(
        () => null,
        (e: { code?: string }) => e,
      );
      expect(err, statement).not.toBeNull();
      expect(['42501'], `${statement}: ${String((err as Error).message)}`).toContain(err!.code);
    }
    expect((await log.store.readStream(a)).length).toBe(4);
  });

  it('starting twice (another process) keeps the first pool working: the password is derived, not reset', async () => {
    const again = await ensureAppRole(log.db.sql, log.db.url, { dataDir });
    const other = connect(again, { max: 1 });
    try {
      await other`select 1`;
      // A fresh connection of the first pool still logs in.
      await log.app.reserve().then(async (c) => {
        await c`select 1`;
        c.release();
      });
    } finally {
      await other.end({ timeout: 5 });
    }
  });
});

describe('audit verify names each tampering', () => {
  it('an intact log verifies clean', async () => {
    const log = await sealedLog();
    try {
      const r = await verifyLog(log.app, { key });
      expect(r.problems).toEqual([]);
      expect(r.sealed).toBe(6);
      expect(r.checkpoints).toBe(1);
    } finally {
      await log.close();
    }
  });

  it('a plain edit of an event', async () => {
    const log = await sealedLog();
    try {
      const victim = await eventId(log.db.sql, log.a, 2);
      await tamper(log.db, (tx) => tx`update nl_events set data = '{"n": 99, "writer": "evil"}' where event_id = ${victim}`);
      const r = await verifyLog(log.app, { key });
      expect(r.problems[0]).toMatchObject({ kind: 'stream-chain', eventId: victim });
      expect(r.problems[0]!.message).toMatch(/content does not match/);
    } finally {
      await log.close();
    }
  });

  it("an edit with the stream's hashes recomputed", async () => {
    const log = await sealedLog();
    try {
      const victim = await eventId(log.db.sql, log.a, 2);
      await tamper(log.db, async (tx) => {
        await tx`update nl_events set data = '{"n": 99, "writer": "evil"}' where event_id = ${victim}`;
        await rehash(tx, log.a, 2);
      });
      const r = await verifyLog(log.app, { key });
      expect(r.problems.filter((p) => p.kind === 'stream-chain')).toEqual([]);
      expect(r.problems[0]).toMatchObject({ kind: 'changed', eventId: victim, streamId: log.a, streamVersion: 2 });
    } finally {
      await log.close();
    }
  });

  it("a stream's tail cut, its version rewound", async () => {
    const log = await sealedLog();
    try {
      const victim = await eventId(log.db.sql, log.a, 3);
      await tamper(log.db, async (tx) => {
        await tx`delete from nl_events where event_id = ${victim}`;
        await tx`update nl_streams set version = 2 where stream_id = ${log.a}`;
      });
      const r = await verifyLog(log.app, { key });
      expect(kinds(r)).toEqual([`missing:${victim}`]);
      expect(r.problems[0]!.message).toContain(`stream ${log.a}, version 3`);
    } finally {
      await log.close();
    }
  });

  it('a whole stream deleted', async () => {
    const log = await sealedLog();
    try {
      const victims = [await eventId(log.db.sql, log.b, 1), await eventId(log.db.sql, log.b, 2), await eventId(log.db.sql, log.b, 3)];
      await tamper(log.db, async (tx) => {
        await tx`delete from nl_events where stream_id = ${log.b}`;
        await tx`delete from nl_streams where stream_id = ${log.b}`;
      });
      const r = await verifyLog(log.app, { key });
      expect(kinds(r)).toEqual(victims.map((v) => `missing:${v}`));
    } finally {
      await log.close();
    }
  });

  it('a forged event inserted into history, its hashes consistent', async () => {
    const log = await sealedLog();
    try {
      const forged = randomUUID();
      await tamper(log.db, async (tx) => {
        // Backdated to the transaction of the stream's first event, so readers would take it as old.
        await tx`insert into nl_events (transaction_id, stream_id, stream_version, event_id, event_type, schema_version, data, metadata, prev_hash, hash)
          select e.transaction_id, e.stream_id, 4, ${forged}, 'Pinged', 1, '{"n": 4, "writer": "evil"}', '{}', '', ''
            from nl_events e where e.stream_id = ${log.a} and e.stream_version = 1`;
        await rehash(tx, log.a, 4);
        await tx`update nl_streams set version = 4 where stream_id = ${log.a}`;
      });
      const r = await verifyLog(log.app, { key });
      expect(kinds(r)).toEqual([`not-sealed:${forged}`]);
    } finally {
      await log.close();
    }
  });

  it('the chain and the stored checkpoints rewritten too: the exported checkpoint still tells', async () => {
    const log = await sealedLog();
    try {
      const exported = await listCheckpoints(log.app);
      const victim = await eventId(log.db.sql, log.a, 3);
      await tamper(log.db, async (tx) => {
        await tx`update nl_events set data = '{"n": 99, "writer": "evil"}' where event_id = ${victim}`;
        await rehash(tx, log.a, 3);
        // The forger rebuilds the whole-log chain and drops the checkpoints that signed the old one.
        await tx`alter table nl_log_chain disable trigger all`;
        await tx`alter table nl_audit_checkpoints disable trigger all`;
        await tx`delete from nl_log_chain`;
        await tx`delete from nl_audit_checkpoints`;
        await tx`alter table nl_log_chain enable trigger all`;
        await tx`alter table nl_audit_checkpoints enable trigger all`;
      });
      await sealLog(log.app);
      const inside = await verifyLog(log.app, { key });
      expect(inside.problems).toEqual([]);
      const r = await verifyLog(log.app, { key, against: exported });
      expect(r.problems.map((p) => p.kind)).toEqual(['checkpoint']);
      expect(r.problems[0]!.message).toMatch(/no longer contains what was signed/);
    } finally {
      await log.close();
    }
  });
});

describe('the server', () => {
  it('seals what is appended and signs the head periodically with the key file', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: db.url,
      NETLEDGER_DATA_DIR: dataDir,
      NETLEDGER_AUDIT_CHECKPOINT_SECONDS: '1',
      LOG_LEVEL: 'warn',
    });
    const s = await startServices(config, createLogger('warn', { pretty: false }), { poolSize: 4, signCheckpoints: true });
    try {
      const store = new EventStore(s.sql, testRegistry(), () => s.waker.appended());
      const stream = `test-${randomUUID()}`;
      for (let i = 1; i <= 3; i++) await store.append(stream, i - 1, [ping(i)]);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const [c] = await s.sql<{ seq: bigint }[]>`select seq from nl_audit_checkpoints order by id desc limit 1`;
        if (c && c.seq === 3n) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await verifyLog(s.sql, { key });
      expect(r.problems).toEqual([]);
      expect(r.sealed).toBe(3);
      expect(r.checkpoints).toBeGreaterThanOrEqual(1);
    } finally {
      await s.stop();
      await db.drop();
    }
  });
});

describe('netledger audit (the CLI)', () => {
  it('exports checkpoints, verifies against them, and exits 1 naming a tampered event', async () => {
    const log = await sealedLog();
    const env = { ...process.env, DATABASE_URL: log.db.url, NETLEDGER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const cli = (...args: string[]) => execa('node', ['bin/netledger.mjs', ...args], { env, reject: false });
    try {
      const file = path.join(dataDir, `heads-${randomUUID()}.ndjson`);
      const exported = await cli('audit', 'checkpoint', '--export', file);
      expect(exported.exitCode, exported.stderr).toBe(0);
      expect(fs.readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(1);
      const ok = await cli('audit', 'verify', '--against', file);
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^ok: /);
      const victim = await eventId(log.db.sql, log.b, 3);
      await tamper(log.db, async (tx) => {
        await tx`delete from nl_events where event_id = ${victim}`;
        await tx`update nl_streams set version = 2 where stream_id = ${log.b}`;
      });
      const broken = await cli('audit', 'verify', '--against', file);
      expect(broken.exitCode).toBe(1);
      expect(broken.stdout).toContain(victim);
    } finally {
      await log.close();
    }
  }, 240_000); // three CLI processes, each compiling the sources on start
});
