import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventStore } from '../../src/store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testRegistry } from '../support/test-events.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 30 });
});
afterAll(async () => {
  await db?.drop();
});

/**
 * The horizon's one promise, checked directly rather than through a subscriber: no transaction that
 * was still running in a reader's snapshot, and went on to append, lies below the horizon that
 * reader computed. Many probes under many committing writers, because the race this guards against
 * (a committing appender read from pg_locks half-way through its commit, migration 011) lasts
 * microseconds. With 008_a's horizon this failed in four runs of five; it must never fail now.
 */
it('no appender still running in a reader snapshot is ever below that reader horizon', async () => {
  const store = new EventStore(db.sql, testRegistry(), () => {});
  const runMs = 8000;
  const deadline = Date.now() + runMs;
  const probes: { xip: bigint[]; horizon: bigint }[] = [];
  const probe = async () => {
    while (Date.now() < deadline) {
      const [r] = await db.sql<
        { snap: string; horizon: string }[]
      >`select pg_current_snapshot()::text as snap, nl_log_horizon()::text as horizon`;
      const xip = r!.snap.split(':')[2]!;
      probes.push({ xip: xip ? xip.split(',').map(BigInt) : [], horizon: BigInt(r!.horizon) });
    }
  };
  const writers = Array.from({ length: 16 }, async () => {
    const stream = `test-${randomUUID()}`;
    let n = 0;
    while (Date.now() < deadline || n < 20) {
      n++;
      await store.append(stream, n - 1, [{ type: 'Pinged', data: { n, writer: stream } }]);
    }
  });
  await Promise.all([...writers, ...Array.from({ length: 5 }, probe)]);

  const appenders = new Set(
    (await db.sql<{ x: string }[]>`select distinct transaction_id::text as x from nl_events`).map((r) => BigInt(r.x)),
  );
  const overtaken = probes.flatMap((p) => p.xip.filter((x) => appenders.has(x) && x < p.horizon).map((x) => `${x} < ${p.horizon}`));
  console.log(`${probes.length} probes, ${appenders.size} appending transactions`);
  expect(probes.length).toBeGreaterThan(100);
  // Not vacuous: readers did see appenders still running, so the check had something to catch.
  expect(probes.some((p) => p.xip.some((x) => appenders.has(x)))).toBe(true);
  expect(overtaken).toEqual([]);
});
