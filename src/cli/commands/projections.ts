import type { Command } from 'commander';
import { aggregateKinds } from '../../app/registry.js';
import { replayProjections } from '../../app/bootstrap.js';
import { rebuildReadModel } from '../../app/rebuild.js';
import { DEFAULT_BATCH, readModelChecksum } from '../../projections/rebuild.js';
import { readModelDrift, verifyReadModel } from '../../projections/verify.js';
import { decodeCursor, encodeCursor } from '../../store/cursor.js';
import { visibleHead } from '../../audit/log-rows.js';
import { withServices } from '../context.js';
import { progressBar } from './events.js';

export function projectionsCommands(program: Command): void {
  const projections = program.command('projections').description('the read model: rebuild it from the log, check it');

  projections
    .command('rebuild')
    .description('replay the whole log into a new read model beside the live one, in committed batches (resumable), then swap it in')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .option('--batch <n>', 'events per committed batch', (v) => Number(v), DEFAULT_BATCH)
    .option('--restart', 'start over instead of resuming an interrupted rebuild')
    .action(async (o: { progress?: boolean; batch: number; restart?: boolean }) =>
      withServices(
        async (s) => {
          const bar = progressBar('rebuild', Boolean(o.progress) || Boolean(process.stderr.isTTY));
          const started = performance.now();
          let total = 0;
          const n = await rebuildReadModel(
            s,
            (done, t) => {
              total = t;
              bar.update(done, t);
            },
            { batchSize: o.batch, restart: o.restart },
          );
          bar.finish(n, Math.max(n, total));
          const seconds = (performance.now() - started) / 1000;
          const sum = await readModelChecksum(s.sql);
          console.log(
            `replayed ${n} events in ${seconds.toFixed(1)} s (${Math.round(n / Math.max(seconds, 1e-3))} events/s); checksum ${sum.digest}`,
          );
        },
        { quietLog: true },
      ),
    );

  projections
    .command('checksum')
    .description('a digest of every read-model table (a rebuild from the log must give the same)')
    .option('--tables', "print each table's digest too")
    .action(async (o: { tables?: boolean }) =>
      withServices(
        async (s) => {
          const sum = await readModelChecksum(s.sql);
          console.log(sum.digest);
          if (o.tables) for (const [t, d] of Object.entries(sum.tables)) console.log(`  ${t.padEnd(32)} ${d}`);
        },
        { quietLog: true },
      ),
    );

  projections
    .command('status')
    .description(
      'where the log is, how far each checkpointed consumer is behind it, and whether the inline read model matches every stream',
    )
    .option('--json', 'as JSON')
    .option('--verify', 'also replay the whole log in a rolled-back transaction and compare checksums (writers wait, as for a rebuild)')
    .action(async (o: { json?: boolean; verify?: boolean }) =>
      withServices(
        async (s) => {
          const sql = s.sql;
          const head = await visibleHead(sql);
          const [counts] = await sql<
            { events: bigint; streams: bigint }[]
          >`select (select count(*) from nl_events) as events, (select count(*) from nl_streams) as streams`;
          const checkpoints = await sql<
            { name: string; position: string; updated_at: Date }[]
          >`select name, position, updated_at from nl_checkpoints order by name`;
          const lags = [];
          for (const c of checkpoints) {
            const p = decodeCursor(c.position);
            const [lag] = await sql<{ n: bigint }[]>`select count(*) as n from nl_events
            where (transaction_id, global_position) > (${p.transactionId.toString()}::xid8, ${p.globalPosition})`;
            lags.push({ name: c.name, cursor: c.position, behind: Number(lag!.n), updatedAt: c.updated_at.toISOString() });
          }
          // Inline projections commit with the append, so they cannot lag; a mismatch means the read
          // model was edited or is from another log (rebuild it). Versions alone miss a row that
          // another stream overwrote, so the rows are checked against the stored states too.
          const drift = await readModelDrift(sql, aggregateKinds());
          const verified = o.verify ? await verifyReadModel(sql, s.store, replayProjections()) : null;
          const inStep = drift.streamsOutOfStep === 0 && drift.rowsOutOfStep === 0 && (verified?.differing.length ?? 0) === 0;
          if (!inStep) process.exitCode = 1;
          const status = {
            head: head ? encodeCursor(head) : null,
            events: Number(counts!.events),
            streams: Number(counts!.streams),
            inline: {
              projections: ['tenancy', 'aggregates', 'networking', 'routing'],
              ...drift,
              ...(verified ? { verified: { live: verified.live, replayed: verified.replayed, tablesDiffering: verified.differing } } : {}),
            },
            checkpoints: lags,
          };
          if (o.json) return console.log(JSON.stringify(status, null, 2));
          console.log(`log head ${status.head ?? '(empty)'}: ${status.events} events in ${status.streams} streams`);
          const problems = [
            ...(drift.streamsOutOfStep > 0 ? [`${drift.streamsOutOfStep} streams out of step`] : []),
            ...(drift.rowsOutOfStep > 0 ? [`${drift.rowsOutOfStep} resource rows unlike their streams' states`] : []),
            ...(verified && verified.differing.length > 0 ? [`tables unlike a replay of the log: ${verified.differing.join(', ')}`] : []),
          ];
          const checked = verified ? 'every stream, its rows, and a replay of the log' : 'every stream and its rows';
          console.log(
            `inline read model (written in each append's transaction): ${inStep ? `in step with ${checked}` : `${problems.join('; ')}: run \`netledger projections rebuild\``}`,
          );
          if (lags.length === 0) console.log('no checkpointed consumers');
          for (const l of lags)
            console.log(`  ${l.name.padEnd(32)} ${l.behind === 0 ? 'caught up' : `${l.behind} events behind`}  (saved ${l.updatedAt})`);
        },
        { quietLog: true },
      ),
    );
}
