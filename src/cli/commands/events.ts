import fs from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { filterSql, matchesFilter, type EventFilter } from '../../audit/event-filter.js';
import { knownStreamTypes } from '../../audit/event-query.js';
import { exportLog, importLog, ImportError } from '../../audit/log-export.js';
import { LOG_COLUMNS, recordedFromRow, visibleHead, type LogRow } from '../../audit/log-rows.js';
import { StreamOwners, type OwnedEvent } from '../../audit/visibility.js';
import { rebuildReadModel } from '../../app/rebuild.js';
import { projectIdByName } from '../../app/tenancy.js';
import { readModelChecksum } from '../../projections/rebuild.js';
import { START } from '../../store/cursor.js';
import { subscribe } from '../../store/subscribe.js';
import type { Running } from '../../app/bootstrap.js';
import { withServices } from '../context.js';

/** A progress bar on stderr, redrawn at most ten times a second; silent unless `enabled`. */
export function progressBar(label: string, enabled: boolean) {
  let last = 0;
  const draw = (done: number, total: number, force = false) => {
    if (!enabled) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(`\r${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}`);
  };
  return {
    update: (done: number, total: number) => draw(done, total),
    finish: (done: number, total: number) => {
      draw(done, total, true);
      if (enabled) process.stderr.write('\n');
    },
  };
}

function formatEvent(e: OwnedEvent, json: boolean): string {
  const ev = e.event;
  if (json) {
    return JSON.stringify({
      cursor: ev.cursor,
      id: ev.id,
      type: ev.type,
      streamId: ev.streamId,
      streamVersion: ev.streamVersion,
      recordedAt: ev.recordedAt.toISOString(),
      project: e.owner.project,
      metadata: ev.metadata,
      data: ev.data,
    });
  }
  const who = ev.metadata.tokenName ?? ev.metadata.actor ?? '-';
  return `${ev.recordedAt.toISOString()}  ${ev.type.padEnd(24)} ${ev.streamId}@${ev.streamVersion}  by ${who}  ${ev.cursor}`;
}

async function resolveProject(s: Running, project: string | undefined): Promise<string | undefined> {
  if (!project) return undefined;
  return /^[0-9a-f-]{36}$/i.test(project) ? project : ((await projectIdByName(s.sql, project)) ?? project);
}

export function eventsCommands(program: Command): void {
  const events = program.command('events').description('read, export and import the event log');

  events
    .command('tail')
    .description('print the last events (and with --follow, new ones as they are committed)')
    .option('-n, --lines <n>', 'how many past events', (v) => Number(v), 20)
    .option('-f, --follow', 'keep printing new events')
    .option('--type <type...>', 'only these event types')
    .option('--project <project>', 'only this project (name or id)')
    .option('--json', 'one JSON object a line')
    .action(async (o: { lines: number; follow?: boolean; type?: string[]; project?: string; json?: boolean }) =>
      withServices(
        async (s) => {
          const filter: EventFilter = { eventTypes: o.type ?? null, projectId: (await resolveProject(s, o.project)) ?? null };
          const sql = s.sql;
          const rows = await sql<LogRow[]>`
          select ${sql.unsafe(LOG_COLUMNS)} from nl_events e
           where e.transaction_id < nl_log_horizon() and ${filterSql(sql, filter, knownStreamTypes())}
           order by e.transaction_id desc, e.global_position desc limit ${o.lines}`;
          const owners = new StreamOwners(sql);
          const past = await owners.annotate(rows.reverse().map((r) => recordedFromRow(s.store.registry, r)));
          for (const e of past) process.stdout.write(formatEvent(e, Boolean(o.json)) + '\n');
          if (!o.follow) return;
          const stop = new AbortController();
          process.once('SIGINT', () => stop.abort());
          process.once('SIGTERM', () => stop.abort());
          // From right after the last line printed: nothing between the two is missed.
          const head = past.length > 0 ? past[past.length - 1]!.event.position : ((await visibleHead(s.sql)) ?? START);
          for await (const ev of subscribe(s.store, s.waker, { after: head, signal: stop.signal })) {
            const [e] = await owners.annotate([ev]);
            if (matchesFilter(filter, e!)) process.stdout.write(formatEvent(e!, Boolean(o.json)) + '\n');
          }
        },
        { quietLog: true },
      ),
    );

  events
    .command('export')
    .description('write the whole log as NDJSON (stable key order, hash chains included)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(async (o: { out?: string; progress?: boolean }) =>
      withServices(
        async (s) => {
          const out = o.out ? fs.createWriteStream(o.out) : process.stdout;
          const bar = progressBar('export', Boolean(o.progress) || Boolean(process.stderr.isTTY));
          let total = 0;
          const n = await exportLog(
            s.sql,
            async (chunk) => {
              if (!out.write(chunk)) await once(out, 'drain');
            },
            (p) => {
              total = p.total;
              bar.update(p.done, p.total);
            },
          );
          bar.finish(n, Math.max(n, total));
          if (o.out) await new Promise<void>((r) => (out as fs.WriteStream).end(r));
          process.stderr.write(`exported ${n} events${o.out ? ` to ${o.out}` : ''}\n`);
        },
        { quietLog: true },
      ),
    );

  events
    .command('import <file>')
    .description('append an export into an empty database (hash chains verified), then rebuild the read model')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(async (file: string, o: { progress?: boolean }) =>
      withServices(
        async (s) => {
          const show = Boolean(o.progress) || Boolean(process.stderr.isTTY);
          const size = fs.statSync(file).size;
          const input = fs.createReadStream(file);
          const bar = progressBar('import', show);
          let n: number;
          try {
            n = await importLog(s.sql, input, {
              knownTypes: (t) => s.store.registry.has(t),
              // Unknown types are reported together once the whole file is in (knownTypes).
              validate: (t, v, d) => void (s.store.registry.has(t) && s.store.registry.decode(t, v, d)),
              onProgress: () => bar.update(input.bytesRead, size),
            });
          } catch (e) {
            if (e instanceof ImportError) {
              console.error(`import failed: ${e.message}`);
              process.exitCode = 1;
              return;
            }
            throw e;
          }
          bar.finish(size, size);
          const rebuild = progressBar('rebuild', show);
          const replayed = await rebuildReadModel(s, (d, t) => rebuild.update(d, t));
          rebuild.finish(replayed, replayed);
          const sum = await readModelChecksum(s.sql);
          process.stderr.write(`imported ${n} events; read model rebuilt, checksum ${sum.digest}\n`);
        },
        { quietLog: true },
      ),
    );
}
