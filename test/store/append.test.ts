import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/event-store.js';
import { isStoreError } from '../../src/store/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { testRegistry } from '../support/test-events.js';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase();
  store = new EventStore(db.sql, testRegistry());
});
afterAll(async () => db.drop());

const ping = (n: number, writer = 'w') => ({ type: 'Pinged', data: { n, writer } });

describe('append', () => {
  it('two writers at the same expected version: exactly one wins, nothing partial is stored', async () => {
    const stream = `test-${randomUUID()}`;
    await store.append(stream, 'no_stream', [ping(1)]);
    const results = await Promise.allSettled([
      store.append(stream, 1, [ping(2, 'a'), ping(3, 'a')]),
      store.append(stream, 1, [ping(2, 'b'), ping(3, 'b')]),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isStoreError((lost[0] as PromiseRejectedResult).reason, 'WrongExpectedVersion')).toBe(true);
    const events = await store.readStream(stream);
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    const winner = (events[1]!.data as { writer: string }).writer;
    expect(events.slice(1).every((e) => (e.data as { writer: string }).writer === winner)).toBe(true);
  });

  it('honours no_stream, stream_exists and any', async () => {
    const stream = `test-${randomUUID()}`;
    await expect(store.append(stream, 'stream_exists', [ping(1)])).rejects.toMatchObject({ code: 'WrongExpectedVersion' });
    await store.append(stream, 'no_stream', [ping(1)]);
    await expect(store.append(stream, 'no_stream', [ping(2)])).rejects.toMatchObject({ code: 'WrongExpectedVersion' });
    await expect(store.append(stream, 'stream_exists', [ping(2)])).resolves.toMatchObject({ version: 2 });
    await expect(store.append(stream, 'any', [ping(3)])).resolves.toMatchObject({ version: 3 });
    await expect(store.append(`test-${randomUUID()}`, 'any', [ping(1)])).resolves.toMatchObject({ version: 1 });
    await expect(store.append(stream, 7, [ping(4)])).rejects.toMatchObject({ code: 'WrongExpectedVersion' });
  });

  it('re-appending stored event ids changes nothing', async () => {
    const stream = `test-${randomUUID()}`;
    const events = [
      { id: randomUUID(), ...ping(1) },
      { id: randomUUID(), ...ping(2) },
    ];
    const first = await store.append(stream, 'no_stream', events);
    const again = await store.append(stream, 0, events);
    expect(first).toMatchObject({ version: 2, duplicate: false });
    expect(again).toMatchObject({ version: 2, duplicate: true });
    expect(await store.readStream(stream)).toHaveLength(2);
    // One known id mixed with a new one is a client bug, not a retry: refused, nothing written.
    await expect(store.append(stream, 2, [events[0]!, { id: randomUUID(), ...ping(3) }])).rejects.toMatchObject({
      code: 'DuplicateEventId',
    });
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  it('re-appending one stored event changes nothing; its id in another stream is refused', async () => {
    // A single event takes nl_append's own path (migration 180), so it is checked apart from batches.
    const stream = `test-${randomUUID()}`;
    const event = { id: randomUUID(), ...ping(1) };
    await expect(store.append(stream, 'no_stream', [event])).resolves.toMatchObject({ version: 1, duplicate: false });
    await expect(store.append(stream, 'no_stream', [event])).resolves.toMatchObject({ version: 1, duplicate: true });
    await expect(store.append(`test-${randomUUID()}`, 'no_stream', [event])).rejects.toMatchObject({ code: 'DuplicateEventId' });
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('single appends chain each event to the one before it', async () => {
    const stream = `test-${randomUUID()}`;
    await store.append(stream, 'no_stream', [ping(1)]);
    await store.append(stream, 1, [ping(2)]);
    await store.append(stream, 'any', [ping(3)]);
    const rows = await db.sql<{ prev_hash: Buffer; hash: Buffer }[]>`
      select prev_hash, hash from nl_events where stream_id = ${stream} order by stream_version`;
    expect(rows).toHaveLength(3);
    expect(rows[0]!.prev_hash).toHaveLength(0);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toEqual(rows[i - 1]!.hash);
    expect(await db.sql`select * from nl_verify_chain() where stream_id = ${stream}`).toHaveLength(0);
  });

  it('a batched append chains each event to the one before it, in version and log order', async () => {
    const stream = `test-${randomUUID()}`;
    await store.append(stream, 'no_stream', [ping(1)]);
    const batch = await store.append(stream, 1, [ping(2), ping(3), ping(4), ping(5)]);
    const rows = await db.sql<{ stream_version: string; global_position: string; prev_hash: Buffer; hash: Buffer }[]>`
      select stream_version, global_position, prev_hash, hash from nl_events where stream_id = ${stream} order by stream_version`;
    expect(rows.map((r) => Number(r.stream_version))).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0]!.prev_hash).toHaveLength(0);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toEqual(rows[i - 1]!.hash);
    const positions = rows.map((r) => BigInt(r.global_position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    // The returned events are the stored ones, in order.
    expect(batch.events.map((e) => [e.streamVersion, e.position.globalPosition])).toEqual(
      rows.slice(1).map((r) => [Number(r.stream_version), BigInt(r.global_position)]),
    );
    const broken = await db.sql`select * from nl_verify_chain() where stream_id = ${stream}`;
    expect(broken).toHaveLength(0);
  });

  it('rejects UPDATE, DELETE and TRUNCATE of stored events', async () => {
    const stream = `test-${randomUUID()}`;
    await store.append(stream, 'no_stream', [ping(1)]);
    await expect(db.sql`update nl_events set data = '{}' where stream_id = ${stream}`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from nl_events where stream_id = ${stream}`).rejects.toThrow(/append-only/);
    await expect(db.sql`truncate nl_events`).rejects.toThrow(/append-only/);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('rejects invalid event data with a typed error and writes nothing', async () => {
    const stream = `test-${randomUUID()}`;
    const attempt = store.append(stream, 'no_stream', [ping(1), { type: 'Pinged', data: { n: 'two', writer: 'w' } }]);
    await expect(attempt).rejects.toMatchObject({ code: 'InvalidEventData' });
    await expect(store.append(stream, 'no_stream', [{ type: 'NoSuchEvent', data: {} }])).rejects.toMatchObject({
      code: 'UnknownEventType',
    });
    expect(await store.readStream(stream)).toHaveLength(0);
    expect(await store.streamVersion(stream)).toBeNull();
  });

  it('upcasts events stored under an older schema version on read', async () => {
    const stream = `test-${randomUUID()}`;
    // Written as a v1 event would have been, before the schema changed.
    const old = [{ id: randomUUID(), type: 'Renamed', version: 1, data: { label: 'old' } }];
    await db.sql`select * from nl_append(${stream}, 'test', -2, ${db.sql.json(old)}::jsonb, '{}'::jsonb)`;
    const [e] = await store.readStream(stream);
    expect(e).toMatchObject({ type: 'Renamed', schemaVersion: 1, data: { name: 'old' } });
  });

  it('records metadata with each event', async () => {
    const stream = `test-${randomUUID()}`;
    const meta = { actor: 'alice', project: 'p1', requestId: 'r1', correlationId: 'c1', causationId: 'x1' };
    await store.append(stream, 'no_stream', [ping(1)], meta);
    const [e] = await store.readStream(stream);
    expect(e!.metadata).toEqual(meta);
    expect(e!.recordedAt).toBeInstanceOf(Date);
  });
});
