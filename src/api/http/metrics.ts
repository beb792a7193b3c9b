import client from 'prom-client';
import type { Services } from '../../app/services.js';
import { withDeadline } from '../../db/unavailable.js';
import { decodeCursor } from '../../store/cursor.js';
import { visibleHead } from '../../store/log-head.js';
import { openSubscriptions } from '../subscriptions/followers.js';

/**
 * The Prometheus metrics of one API server, in its own registry (tests run several servers in a
 * process). Labels carry operation names, error codes, HTTP statuses and agent host names: never
 * tokens, project names or resource contents.
 */

/** Operation names come from clients: only this many distinct ones get their own series. */
const MAX_OPERATIONS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SCRAPE_QUERY_MS = 2000;

export class ApiMetrics {
  readonly registry = new client.Registry();
  private readonly operations = new Set<string>();
  private readonly requests: client.Counter<'operation' | 'type' | 'status'>;
  private readonly duration: client.Histogram<'operation' | 'type'>;
  private readonly errors: client.Counter<'code'>;
  private readonly commands: client.Counter<'result'>;
  private readonly commandSeconds: client.Histogram<'result'>;
  private readonly appended: client.Counter;

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
    this.appended = new client.Counter({ name: 'netledger_events_appended_total', help: 'Events appended to the log by commands', registers });
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
      help: "Global log position each dataplane agent has applied (its lag is the log head minus this)",
      labelNames: ['host'],
      registers,
      async collect() {
        const rows = await withDeadline(services.sql<{ host: string; cursor: string }[]>`select host, cursor from rm_agent_applied`, SCRAPE_QUERY_MS).catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ host: r.host }, Number(decodeCursor(r.cursor).globalPosition));
      },
    });
    services.runtime.observer = (o) => {
      this.commands.inc({ result: o.result });
      this.commandSeconds.observe({ result: o.result }, o.seconds);
      if (o.result !== 'ok') this.errors.inc({ code: o.result });
      this.appended.inc(o.events);
    };
  }

  /** One finished HTTP request; `operation` is undefined outside GraphQL. */
  request(r: { operation?: string | undefined; type?: string | undefined; status: number; seconds: number; errorCodes: readonly string[] }): void {
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
