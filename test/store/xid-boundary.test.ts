import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/event-store.js';
import { visibleHead } from '../../src/store/log-head.js';
import { START, type LogPosition } from '../../src/store/cursor.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testRegistry } from '../support/test-events.js';

let db: TestDatabase;
let store: EventStore;
beforeAll(async () => {
  db = await createTestDatabase();
  store = new EventStore(db.sql, testRegistry());
});
afterAll(async () => db.drop());

describe('global order across a transaction id with more digits', () => {
  // Regression: ordering by the text form of the id put '1000' before '999' and, paging on from
  // there, skipped every event with a shorter id.
  it('reads events in numeric transaction order and pages on without skipping any', async () => {
    const stream = `test-${randomUUID()}`;
    // Rows as transactions 997..1002 would have written them (long finished, so all visible).
    const xids = [997, 998, 999, 1000, 1001, 1002];
    await db.sql`insert into nl_streams (stream_id, stream_type, version) values (${stream}, 'test', ${xids.length})`;
    for (const [i, xid] of xids.entries()) {
      await db.sql`insert into nl_events (transaction_id, stream_id, stream_version, event_id, event_type, schema_version, data, metadata, prev_hash, hash)
        values (${String(xid)}::xid8, ${stream}, ${i + 1}, ${randomUUID()}, 'Pinged', 1, ${db.sql.json({ n: i + 1, writer: 'w' })}, '{}', '', '')`;
    }
    const paged: number[] = [];
    let pos: LogPosition = START;
    for (;;) {
      const batch = await store.readAll(pos, 2);
      if (batch.length === 0) break;
      for (const e of batch) {
        paged.push((e.data as { n: number }).n);
        pos = e.position;
      }
    }
    expect(paged).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await visibleHead(db.sql))?.transactionId).toBe(1002n);
  });
});
