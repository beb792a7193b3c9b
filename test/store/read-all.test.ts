import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/event-store.js';
import { LogWaker } from '../../src/store/log-waker.js';
import { subscribe } from '../../src/store/subscribe.js';
import { decodeCursor, START, type LogPosition } from '../../src/store/cursor.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/store/checkpoints.js';
import type { RecordedEvent } from '../../src/store/types.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testRegistry } from '../support/test-events.js';

let db: TestDatabase;
let store: EventStore;
let waker: LogWaker;

beforeAll(async () => {
  db = await createTestDatabase({ max: 30 });
  waker = new LogWaker(db.sql);
  await waker.listen();
  store = new EventStore(db.sql, testRegistry(), () => waker.appended());
});
afterAll(async () => {
  await waker.close();
  await db.drop();
});

const ping = (n: number, writer: string) => ({ type: 'Pinged', data: { n, writer } });

describe('global order', () => {
  it('delivers every event exactly once, in stream order, including a late-committing transaction', async () => {
    const writers = 20;
    const runMs = 3000;
    const expected = new Map<string, number>();
    const seenBySub = new Map<string, number[]>();
    const seenByLoop = new Map<string, number[]>();
    const controller = new AbortController();

    const evidence: string[] = [];
    const lastPos = new Map<Map<string, number[]>, RecordedEvent>();
    const ids = new Map<Map<string, number[]>, Set<string>>();
    const record = (into: Map<string, number[]>, e: RecordedEvent) => {
      // Evidence for a failure: a delivered position that does not move forward, or an event twice.
      const prev = lastPos.get(into);
      if (
        prev &&
        !(
          e.position.transactionId > prev.position.transactionId ||
          (e.position.transactionId === prev.position.transactionId && e.position.globalPosition > prev.position.globalPosition)
        )
      ) {
        evidence.push(
          `${into === seenBySub ? 'sub' : 'loop'}: ${prev.position.transactionId}:${prev.position.globalPosition} then ${e.position.transactionId}:${e.position.globalPosition} (${e.type} ${e.streamId.slice(0, 20)} v${e.streamVersion})`,
        );
      }
      lastPos.set(into, e);
      const seenIds = ids.get(into) ?? new Set<string>();
      if (seenIds.has(e.id)) evidence.push(`${into === seenBySub ? 'sub' : 'loop'}: event ${e.id} twice`);
      seenIds.add(e.id);
      ids.set(into, seenIds);
      const d = e.data as { n: number; writer: string };
      if (!d.writer.startsWith('cw-')) return;
      const list = into.get(d.writer) ?? [];
      list.push(d.n);
      into.set(d.writer, list);
    };
    const [startPos] = await (async () => [await tail()])();
    const subscriber = (async () => {
      for await (const e of subscribe(store, waker, { after: startPos, signal: controller.signal, pollMs: 100 })) record(seenBySub, e);
    })();
    const reader = (async () => {
      let pos = startPos;
      while (!controller.signal.aborted) {
        const batch = await store.readAll(pos, 200);
        for (const e of batch) {
          record(seenByLoop, e);
          pos = e.position;
        }
        if (batch.length === 0) await new Promise((r) => setTimeout(r, 10));
      }
    })();

    // A transaction that takes its id early, holds it, and commits in the middle of the run.
    const lateWriter = `cw-late-${randomUUID()}`;
    const late = db.sql
      .begin(async (tx) => {
        await store.appendIn(tx, `test-${lateWriter}`, 'no_stream', [ping(1, lateWriter)]);
        await new Promise((r) => setTimeout(r, runMs / 2));
      })
      .then(() => {
        expected.set(lateWriter, 1);
        waker.appended();
      });

    const deadline = Date.now() + runMs;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const writer = `cw-${w}-${randomUUID()}`;
        const stream = `test-${writer}`;
        let n = 0;
        // At least six each, however slow the machine: the run must interleave many appends.
        while (Date.now() < deadline || n < 6) {
          n++;
          await store.append(stream, n - 1, [ping(n, writer)]);
        }
        expected.set(writer, n);
      }),
    );
    await late;

    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    const count = (m: Map<string, number[]>) => [...m.values()].reduce((a, l) => a + l.length, 0);
    for (let i = 0; i < 1200 && (count(seenBySub) < total || count(seenByLoop) < total); i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await Promise.all([subscriber, reader]);

    if (count(seenBySub) < total || count(seenByLoop) < total) {
      // Say who holds the snapshot back, so a stall is never a mystery.
      const holders =
        await db.sql`select pid, datname, state, backend_xid::text, backend_xmin::text, now() - xact_start as age, left(query, 120) as query
        from pg_stat_activity where backend_xid is not null or backend_xmin is not null`;
      const [snap] = await db.sql`select pg_current_snapshot()::text as snapshot`;
      console.error('stalled readers', { sub: count(seenBySub), loop: count(seenByLoop), total, snap, holders });
    }
    if (process.env.DEBUG_READALL) {
      for (const [name, seen] of [
        ['sub', seenBySub],
        ['loop', seenByLoop],
      ] as const) {
        for (const [writer, n] of expected) {
          const got = seen.get(writer) ?? [];
          if (got.length !== n) console.log(name, writer, 'expected', n, 'got', got.length, 'last', got.slice(-3));
        }
      }
    }
    expect(total).toBeGreaterThan(writers * 5);
    const deviation = (got: number[], n: number) => {
      const at = got.findIndex((v, i) => v !== i + 1);
      return at < 0 ? `ends at ${got.length} of ${n}` : `at index ${at}: ${JSON.stringify(got.slice(Math.max(0, at - 2), at + 3))}`;
    };
    const report = (
      [
        ['subscriber', seenBySub],
        ['readAll loop', seenByLoop],
      ] as const
    )
      .map(([name, seen]) => {
        const wrong = [...expected].filter(
          ([w, n]) => JSON.stringify(seen.get(w) ?? []) !== JSON.stringify(Array.from({ length: n }, (_, i) => i + 1)),
        );
        return wrong.length === 0
          ? ''
          : `${name} saw ${count(seen)} of ${total}: ` +
              wrong.map(([w, n]) => `${w.slice(0, 12)} ${deviation(seen.get(w) ?? [], n)}`).join('; ');
      })
      .filter(Boolean)
      .join(' | ');
    expect(report + (evidence.length ? ` | evidence: ${evidence.slice(0, 10).join('; ')}` : '')).toBe('');
    expect(seenBySub.get(lateWriter)).toEqual([1]);
  });

  it('resuming a subscription from a stored cursor delivers exactly the events after it', async () => {
    const writer = `rs-${randomUUID()}`;
    const stream = `test-${writer}`;
    const from = await tail();
    for (let i = 1; i <= 10; i++) await store.append(stream, i - 1, [ping(i, writer)]);

    const controller = new AbortController();
    const firstSix: RecordedEvent[] = [];
    for await (const e of subscribe(store, waker, { after: from, signal: controller.signal })) {
      if ((e.data as { writer: string }).writer !== writer) continue;
      firstSix.push(e);
      if (firstSix.length === 6) break;
    }
    // The consumer stores its checkpoint as an opaque cursor and comes back later.
    await saveCheckpoint(db.sql, 'resume-test', firstSix[5]!.position);
    const resumed: number[] = [];
    const resumeFrom = await loadCheckpoint(db.sql, 'resume-test');
    expect(decodeCursor(firstSix[5]!.cursor)).toEqual(resumeFrom);
    for await (const e of subscribe(store, waker, { after: resumeFrom, signal: controller.signal })) {
      if ((e.data as { writer: string }).writer !== writer) continue;
      resumed.push((e.data as { n: number }).n);
      if (resumed.length === 4) break;
    }
    expect(firstSix.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resumed).toEqual([7, 8, 9, 10]);
  });
});

async function tail(): Promise<LogPosition> {
  let pos = START;
  for (;;) {
    const batch = await store.readAll(pos, 1000);
    if (batch.length === 0) return pos;
    pos = batch[batch.length - 1]!.position;
  }
}
