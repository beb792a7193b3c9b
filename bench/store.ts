import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { connect } from '../src/db/sql.js';
import { defineEvent } from '../src/domain/event-definition.js';
import { EventRegistry } from '../src/store/event-registry.js';
import { EventStore } from '../src/store/event-store.js';
import { START } from '../src/store/cursor.js';
import { migrate } from '../src/store/migrate.js';
import { fmt, load } from './stats.js';
import { loadAvg } from './scale.js';

const Bench = defineEvent('BenchHappened', z.object({ n: z.number(), network: z.string(), name: z.string() }));
const payload = (n: number) => ({ n, network: randomUUID(), name: `port-${n}-with-a-name-of-typical-length` });

/** Appends against a raw INSERT of the same payload into a plain table, in the same run. */
export async function storeBench(url: string): Promise<void> {
  const sql = connect(url, { max: 16 });
  await migrate(sql);
  await sql`create table bench_raw (id bigint generated always as identity primary key, stream text, n int, data jsonb, metadata jsonb)`;
  const store = new EventStore(sql, new EventRegistry([Bench]));
  const meta = { actor: 'bench', requestId: randomUUID() };
  const N = 4000;
  console.log('\n## event store');
  console.log('| operation | netledger | raw INSERT baseline | ratio | load |');
  console.log('|---|---|---|---|---|');
  for (const c of [1, 8]) {
    const raw = await load(
      N,
      c,
      (i) =>
        sql`insert into bench_raw (stream, n, data, metadata) values (${`s-${c}-${i}`}, 1, ${sql.json(payload(i))}, ${sql.json(meta)})`,
    );
    const ours = await load(N, c, (i) =>
      store.append(`bench-${randomUUID()}`, 'no_stream', [{ type: 'BenchHappened', data: payload(i) }], meta),
    );
    console.log(
      `| single-event append, concurrency ${c} (appends/s) | ${fmt(ours.rate, 0)} (p99 ${fmt(ours.p99)} ms) | ${fmt(raw.rate, 0)} (p99 ${fmt(raw.p99)} ms) | ${fmt(ours.rate / raw.rate, 2)}x | ${loadAvg()} |`,
    );
  }
  const B = 100;
  const batches = 200;
  const rawBatch = await load(batches, 4, async () => {
    const rows = Array.from({ length: B }, (_, i) => ({ stream: 'b', n: i, data: payload(i), metadata: meta }));
    await sql`insert into bench_raw (stream, n, data, metadata) select stream, n, data, metadata from jsonb_to_recordset(${sql.json(rows)}) as x(stream text, n int, data jsonb, metadata jsonb)`;
  });
  const ourBatch = await load(batches, 4, () =>
    store.append(
      `bench-${randomUUID()}`,
      'no_stream',
      Array.from({ length: B }, (_, i) => ({ type: 'BenchHappened', data: payload(i) })),
      meta,
    ),
  );
  console.log(
    `| batched append, 100 events each (events/s) | ${fmt(ourBatch.rate * B, 0)} | ${fmt(rawBatch.rate * B, 0)} | ${fmt(ourBatch.rate / rawBatch.rate, 2)}x | ${loadAvg()} |`,
  );
  let pos = START;
  let read = 0;
  const t = performance.now();
  for (;;) {
    const events = await store.readAll(pos, 5000);
    if (events.length === 0) break;
    read += events.length;
    pos = events[events.length - 1]!.position;
  }
  const readRate = read / ((performance.now() - t) / 1000);
  const t2 = performance.now();
  let rawRead = 0;
  let last = 0n;
  for (;;) {
    const rows = await sql<{ id: bigint }[]>`select id, stream, n, data, metadata from bench_raw where id > ${last} order by id limit 5000`;
    if (rows.length === 0) break;
    rawRead += rows.length;
    last = rows[rows.length - 1]!.id;
  }
  const rawReadRate = rawRead / ((performance.now() - t2) / 1000);
  console.log(
    `| readAll, batches of 5000, validated and decoded (events/s) | ${fmt(readRate, 0)} | ${fmt(rawReadRate, 0)} (plain SELECT) | ${fmt(readRate / rawReadRate, 2)}x | ${loadAvg()} |`,
  );
  await sql.end();
}
