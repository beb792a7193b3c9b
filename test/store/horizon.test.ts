import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildReadModel } from '../../src/app/rebuild.js';
import { readModelChecksum } from '../../src/projections/rebuild.js';
import { START, type LogPosition } from '../../src/store/cursor.js';
import { subscribe } from '../../src/store/subscribe.js';
import { CREATE_NETWORK, startTestApi, type TestApi } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let api: TestApi;
let elsewhere: TestDatabase;
beforeAll(async () => {
  api = await startTestApi();
  elsewhere = await createTestDatabase();
});
afterAll(async () => {
  await elsewhere?.drop();
  await api?.close();
});

/** Opens a transaction that takes a transaction id and stays open until released (30 s at most). */
function holdOpen(run: (tx: any) => Promise<unknown>): { open: Promise<void>; release: () => void; settled: () => boolean } {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
    setTimeout(r, 30_000);
  });
  let opened = () => {};
  const open = new Promise<void>((r) => (opened = r));
  let done = false;
  void Promise.resolve().then(async () => {
    try {
      await run(async (tx: any) => {
        await tx`select pg_current_xact_id()`;
        opened();
        await released;
      });
    } finally {
      done = true;
    }
  });
  return { open, release, settled: () => done };
}

async function tail(): Promise<LogPosition> {
  let pos = START;
  for (;;) {
    const batch = await api.services.store.readAll(pos, 1000);
    if (batch.length === 0) return pos;
    pos = batch[batch.length - 1]!.position;
  }
}

describe('the log horizon', () => {
  it('long transactions that do not append, and a rebuild, do not hold back deliveries', async () => {
    const admin = api.adminToken;
    // Enough history for the rebuild to take a while in batches of 1.
    for (let i = 0; i < 30; i++) await api.gql(admin, CREATE_NETWORK, { input: { name: `before-${i}` } });

    const otherDb = holdOpen((body) => elsewhere.sql.begin(body));
    const sameDb = holdOpen((body) => api.db.sql.begin(body)); // the owner, reading and writing nothing of the log
    await Promise.all([otherDb.open, sameDb.open]);
    const rebuild = rebuildReadModel(api.services, () => {}, { batchSize: 1, restart: true });

    const tag = randomUUID();
    const delivered = new Map<string, number>();
    const controller = new AbortController();
    const from = await tail();
    const follower = (async () => {
      for await (const e of subscribe(api.services.store, api.services.waker, { after: from, signal: controller.signal, pollMs: 200 })) {
        const name = (e.data as { name?: string }).name;
        if (e.type === 'NetworkCreated' && name?.startsWith(tag)) delivered.set(name, Date.now());
        if (delivered.size === 10) return;
      }
    })();

    const committed = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const name = `${tag}-${i}`;
      const r = (await api.gql(admin, CREATE_NETWORK, { input: { name } })).createNetwork;
      expect(r.__typename).toBe('CreateNetworkSuccess');
      committed.set(name, Date.now());
    }
    const deadline = Date.now() + 20_000;
    while (delivered.size < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const stillOpen = !otherDb.settled() && !sameDb.settled();
    controller.abort();
    await follower;
    const lags = [...committed].map(([n, t]) => (delivered.get(n) ?? Infinity) - t);
    console.log(`delivery after commit: max ${Math.max(...lags)} ms`);
    expect(delivered.size).toBe(10);
    expect(stillOpen).toBe(true);

    otherDb.release();
    sameDb.release();
    expect(await rebuild).toBeGreaterThan(30);
    // The rebuild, run beside the appends, left the read model exactly as the log says.
    const after = await readModelChecksum(api.services.sql);
    await rebuildReadModel(api.services, () => {}, { restart: true });
    expect((await readModelChecksum(api.services.sql)).digest).toBe(after.digest);
  });

  it('refuses an append in a transaction that wrote before announcing itself', async () => {
    const stream = `network-${randomUUID()}`;
    const err = await api.db.sql
      .begin(async (tx) => {
        await tx`insert into nl_checkpoints (name, position) values (${`x-${stream}`}, 'nl1.x')`;
        await tx`select * from nl_append(${stream}, 'network', -2, ${tx.json([{ id: randomUUID(), type: 'X', version: 1, data: {} }] as never)}::jsonb, '{}'::jsonb)`;
      })
      .catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBe('NL428');
  });

  it('an interrupted rebuild resumes from its checkpoint and ends with the live checksum', async () => {
    // History of its own, so the batches below exist whatever ran before.
    for (let i = 0; i < 30; i++) await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: `resume-${i}` } });
    const live = await readModelChecksum(api.services.sql);
    let batches = 0;
    const crash = await rebuildReadModel(
      api.services,
      () => {
        if (++batches === 5) throw new Error('interrupted');
      },
      { batchSize: 3, restart: true },
    ).catch((e: Error) => e);
    expect((crash as Error).message).toBe('interrupted');
    const [saved] = await api.db.sql`select position from nl_checkpoints where name = 'projections-rebuild'`;
    expect(saved).toBeDefined();
    // Meanwhile the live read model was untouched.
    expect((await readModelChecksum(api.services.sql)).digest).toBe(live.digest);
    let first = -1;
    await rebuildReadModel(
      api.services,
      (done) => {
        if (first < 0) first = done;
      },
      { batchSize: 3 },
    );
    expect(first).toBeGreaterThan(12);
    expect((await readModelChecksum(api.services.sql)).digest).toBe(live.digest);
    expect(await api.db.sql`select 1 from pg_namespace where nspname = 'nl_rebuild'`).toHaveLength(0);
  });
});

describe('a rebuilt read model', () => {
  it("keeps every table's constraint and index names, so later migrations still find them", async () => {
    const names = async () =>
      (
        await api.db.sql<{ n: string }[]>`
      select c.relname || '.' || i.relname as n from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
       where c.relnamespace = current_schema()::regnamespace and c.relname like 'rm\\_%' order by 1`
      ).map((r) => r.n);
    const before = await names();
    await rebuildReadModel(api.services, () => {}, { restart: true });
    expect(await names()).toEqual(before);
  });
});
