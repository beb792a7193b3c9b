import client from 'prom-client';
import type { Services } from '../../app/services.js';
import { withDeadline } from '../../db/unavailable.js';
import type { SyncStats } from '../../agent/index.js';
import { DAEMONS, type CommandRunner } from '../../agent/exec.js';
import type { Reconciler } from '../../agent/reconciler.js';
import type { Queryable } from '../../db/sql.js';
import { decodeCursor, type LogPosition } from '../../store/cursor.js';
import { visibleHead } from '../../store/log-head.js';
import { openSubscriptions, subscriptionsPosition } from '../subscriptions/followers.js';

/**
 * The Prometheus metrics of one API server, in its own registry (tests run several servers in a
 * process). Labels carry operation names, error codes, HTTP statuses and agent host names: never
 * tokens, project names or resource contents.
 */

/** Operation names come from clients: only this many distinct ones get their own series. */
const MAX_OPERATIONS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SCRAPE_QUERY_MS = 2000;
/** A consumer's lag is counted up to this many events: a dead agent must not make every scrape scan the log. */
const LAG_CAP = 100_000;

/** A dataplane agent running in this process (a `DataplaneAgent`). */
export interface ObservedAgent {
  readonly host: string;
  readonly stats: Readonly<SyncStats>;
  readonly reconciler: Pick<Reconciler, 'onPass'> & { readonly exec: Pick<CommandRunner, 'daemonStarts'> };
}

/** Visible events after `after`, up to LAG_CAP: how far behind a consumer at `after` is. */
async function eventsAfter(q: Queryable, after: LogPosition): Promise<number> {
  const [row] = await q<{ n: bigint }[]>`
    select count(*) as n from (select 1 from nl_events e
     where (e.transaction_id, e.global_position) > (${after.transactionId.toString()}::xid8, ${after.globalPosition})
       and e.transaction_id < nl_log_horizon()
     limit ${LAG_CAP}) behind`;
  return Number(row?.n ?? 0n);
}

/**
 * Every log consumer and where it is: this process's subscriptions, the whole-log sealer, each
 * dataplane agent's applied cursor, and each named checkpoint (a projection rebuild in progress).
 */
async function consumerPositions(services: Services): Promise<Map<string, LogPosition>> {
  const out = new Map<string, LogPosition>();
  const subscriptions = subscriptionsPosition(services);
  if (subscriptions) out.set('subscriptions', subscriptions);
  const [seal] = await services.sql<{ xid: string; global_position: bigint }[]>`
    select transaction_id::text as xid, global_position from nl_log_chain order by seq desc limit 1`;
  out.set(
    'seal',
    seal ? { transactionId: BigInt(seal.xid), globalPosition: seal.global_position } : { transactionId: 0n, globalPosition: 0n },
  );
  for (const r of await services.sql<{ host: string; cursor: string }[]>`select host, cursor from rm_agent_applied`)
    out.set(`agent:${r.host}`, decodeCursor(r.cursor));
  for (const r of await services.sql<{ name: string; position: string }[]>`select name, position from nl_checkpoints`)
    out.set(`checkpoint:${r.name}`, decodeCursor(r.position));
  return out;
}

export class ApiMetrics {
  readonly registry = new client.Registry();
  private readonly operations = new Set<string>();
  private readonly requests: client.Counter<'operation' | 'type' | 'status'>;
  private readonly duration: client.Histogram<'operation' | 'type'>;
  private readonly errors: client.Counter<'code'>;
  private readonly commands: client.Counter<'result'>;
  private readonly commandSeconds: client.Histogram<'result'>;
  private readonly appended: client.Counter;
  private readonly agents = new Map<string, { agent: ObservedAgent; counted: number; startsCounted: Map<string, number> }>();
  private readonly passSeconds: client.Histogram<'host'>;
  private readonly passCommands: client.Histogram<'host'>;

  constructor(services: Services) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    this.requests = new client.Counter({
      name: 'netledger_requests_total',
      help: 'HTTP requests, by GraphQL operation (name or "anonymous"; "-" outside GraphQL), type and HTTP status',
      labelNames: ['operation', 'type', 'status'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'netledger_request_duration_seconds',
      help: 'HTTP request duration, by GraphQL operation and type (a subscription lasts as long as it is open)',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errors = new client.Counter({
      name: 'netledger_errors_total',
      help: 'Errors answered, by code: GraphQL error codes, and the codes of commands that ended in a domain error',
      labelNames: ['code'],
      registers,
    });
    this.commands = new client.Counter({
      name: 'netledger_commands_total',
      help: 'Commands run, by result ("ok" or the domain error code)',
      labelNames: ['result'],
      registers,
    });
    this.commandSeconds = new client.Histogram({
      name: 'netledger_command_duration_seconds',
      help: 'Command duration including its append transaction and retries, by result',
      labelNames: ['result'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.appended = new client.Counter({
      name: 'netledger_events_appended_total',
      help: 'Events appended to the log by commands',
      registers,
    });
    new client.Gauge({
      name: 'netledger_subscriptions_open',
      help: 'Open GraphQL subscriptions (SSE and WebSocket) in this process',
      registers,
      collect() {
        this.set(openSubscriptions(services));
      },
    });
    new client.Gauge({
      name: 'netledger_log_head_position',
      help: 'Global position of the newest event readers can see',
      registers,
      async collect() {
        const head = await withDeadline(visibleHead(services.sql), SCRAPE_QUERY_MS).catch(() => undefined);
        if (head !== undefined) this.set(Number(head?.globalPosition ?? 0n));
      },
    });
    new client.Gauge({
      name: 'netledger_agent_applied_position',
      help: 'Global log position each dataplane agent has applied (its lag is the log head minus this)',
      labelNames: ['host'],
      registers,
      async collect() {
        const rows = await withDeadline(
          services.sql<{ host: string; cursor: string }[]>`select host, cursor from rm_agent_applied`,
          SCRAPE_QUERY_MS,
        ).catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ host: r.host }, Number(decodeCursor(r.cursor).globalPosition));
      },
    });
    new client.Gauge({
      name: 'netledger_consumer_lag_events',
      help: `Events in the log a consumer has not processed yet (counted up to ${LAG_CAP}): subscriptions (this process), seal (the whole-log chain), agent:<host> (applied), checkpoint:<name> (a rebuild in progress), projections (inline: always 0, they commit with the events)`,
      labelNames: ['consumer'],
      registers,
      async collect() {
        const lags = await withDeadline(
          (async () => {
            const out: [string, number][] = [['projections', 0]];
            for (const [consumer, at] of await consumerPositions(services)) out.push([consumer, await eventsAfter(services.sql, at)]);
            return out;
          })(),
          SCRAPE_QUERY_MS,
        ).catch(() => undefined);
        if (!lags) return;
        this.reset();
        for (const [consumer, n] of lags) this.set({ consumer }, n);
      },
    });
    const poolMax = Number(services.sql.options.max);
    const applicationName = String((services.sql.options.connection as Record<string, unknown>).application_name ?? '');
    new client.Gauge({ name: 'netledger_db_pool_max', help: "Connections this process's database pool may open", registers }).set(poolMax);
    new client.Gauge({
      name: 'netledger_db_pool_connections',
      help: "Open connections of this process's database pool by state (pg_stat_activity: active, idle, idle in transaction), plus its one LISTEN connection (idle); the scrape itself holds one active",
      labelNames: ['state'],
      registers,
      async collect() {
        const rows = await withDeadline(
          services.sql<{ state: string | null; n: bigint }[]>`
          select state, count(*) as n from pg_stat_activity where application_name = ${applicationName} group by state`,
          SCRAPE_QUERY_MS,
        ).catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const state of ['active', 'idle', 'idle in transaction']) this.set({ state }, 0);
        for (const r of rows) this.set({ state: r.state ?? 'unknown' }, Number(r.n));
      },
    });
    const agents = this.agents;
    const passes = new client.Counter({
      name: 'netledger_agent_passes_total',
      help: 'Reconcile passes of the dataplane agent running in this process',
      labelNames: ['host'],
      registers,
    });
    const lastPass = (name: string, help: string, value: (s: Readonly<SyncStats>) => number | undefined) =>
      new client.Gauge({
        name,
        help,
        labelNames: ['host'],
        registers,
        collect() {
          for (const [host, a] of agents) {
            const v = value(a.agent.stats);
            if (v !== undefined) this.set({ host }, v);
          }
        },
      });
    lastPass(
      'netledger_agent_last_pass_seconds',
      "Duration of the agent's last sync (topology, compile, reconcile pass, statuses, applied cursor)",
      (s) => (s.syncs > 0 ? s.lastSyncMs / 1000 : undefined),
    );
    lastPass(
      'netledger_agent_last_pass_commands',
      "Processes (ip, nft, ...) the agent's last reconcile pass ran",
      (s) => s.lastPass?.commands,
    );
    lastPass(
      'netledger_agent_last_pass_mutations',
      "Host changes (mutating commands and file writes) in the agent's last reconcile pass",
      (s) => s.lastPass?.mutations,
    );
    this.passSeconds = new client.Histogram({
      name: 'netledger_agent_pass_duration_seconds',
      help: 'Duration of each reconcile pass of the agent running in this process (observe, diff, apply, re-observe)',
      labelNames: ['host'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.passCommands = new client.Histogram({
      name: 'netledger_agent_pass_commands',
      help: 'Processes (ip, nft, ...) each reconcile pass of the agent running in this process ran',
      labelNames: ['host'],
      buckets: [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    const daemonStarts = new client.Counter({
      name: 'netledger_agent_daemon_starts_total',
      help: 'Daemons (haproxy, dnsmasq, keepalived, radvd, charon) the agent running in this process started: first starts and restarts (one found dead, or whose change needs a new process)',
      labelNames: ['host', 'daemon'],
      registers,
    });
    this.readAgents = () => {
      for (const [host, a] of agents) {
        const { syncs } = a.agent.stats;
        if (syncs > a.counted) passes.inc({ host }, syncs - a.counted);
        a.counted = syncs;
        for (const daemon of DAEMONS) {
          const now = a.agent.reconciler.exec.daemonStarts.get(daemon) ?? 0;
          daemonStarts.inc({ host, daemon }, now - (a.startsCounted.get(daemon) ?? 0));
          a.startsCounted.set(daemon, now);
        }
      }
    };
    services.runtime.observer = (o) => {
      this.commands.inc({ result: o.result });
      this.commandSeconds.observe({ result: o.result }, o.seconds);
      if (o.result !== 'ok') this.errors.inc({ code: o.result });
      this.appended.inc(o.events);
    };
  }

  private readonly readAgents: () => void;

  /**
   * Reports an agent running in this process (serve's local agent), best before it starts: each
   * reconcile pass is observed as it ends (duration, commands); its syncs and daemon starts are
   * read from it at each scrape.
   */
  observeAgent(agent: ObservedAgent): void {
    const host = agent.host;
    this.agents.set(host, { agent, counted: 0, startsCounted: new Map() });
    agent.reconciler.onPass((r) => {
      this.passSeconds.observe({ host }, r.ms / 1000);
      this.passCommands.observe({ host }, r.commands);
    });
  }

  /** The exposition, with counters read from their sources first. */
  async expose(): Promise<string> {
    this.readAgents();
    return this.registry.metrics();
  }

  /** One finished HTTP request; `operation` is undefined outside GraphQL. */
  request(r: {
    operation?: string | undefined;
    type?: string | undefined;
    status: number;
    seconds: number;
    errorCodes: readonly string[];
  }): void {
    const operation = r.operation === undefined ? '-' : this.operationLabel(r.operation);
    const type = r.type ?? '-';
    this.requests.inc({ operation, type, status: String(r.status) });
    this.duration.observe({ operation, type }, r.seconds);
    for (const code of r.errorCodes) this.errors.inc({ code });
  }

  private operationLabel(name: string): string {
    if (name === '') return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (!this.operations.has(name)) {
      if (this.operations.size >= MAX_OPERATIONS) return 'other';
      this.operations.add(name);
    }
    return name;
  }
}
