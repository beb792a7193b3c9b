import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows } from '../../src/store/copy-rows.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ max: 1 });
});
afterAll(async () => {
  await db.drop();
});

describe('rows read through COPY', () => {
  it('come back field for field: escapes, multi-byte characters across reads, and a connection still usable after', async () => {
    const tricky = ['tab\there', 'new\nline', 'back\\slash', 'cr\rlf', '\b\f\v', 'héllo wörld ✓ 𝄞', '"quoted" {json}'];
    // Enough rows that the stream fills its buffer and postgres.js pauses its socket on the way.
    const rows = await copyRows(
      db.sql,
      `select i, x, (jsonb_build_object('s', x, 'i', i))::text from generate_series(1, 20000) i,
         lateral (select (array[${tricky.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ')}])[1 + i % ${tricky.length}] as x) t order by i`,
    );
    expect(rows).toHaveLength(20000);
    rows.forEach(([i, x, json], n) => {
      expect(Number(i)).toBe(n + 1);
      expect(x).toBe(tricky[(n + 1) % tricky.length]);
      expect(JSON.parse(json!)).toEqual({ s: x, i: n + 1 });
    });
    // The one connection of this pool answers again (postgres.js could leave it paused after a COPY).
    for (let k = 0; k < 5; k++) {
      expect(await copyRows(db.sql, `select ${k}`)).toEqual([[String(k)]]);
      const [{ n }] = (await db.sql`select ${k}::int as n`) as unknown as [{ n: number }];
      expect(n).toBe(k);
    }
  });
});
