import type postgres from 'postgres';
import { pipelined } from '../db/pipelined.js';
import type { Sql } from '../db/sql.js';
import type { DomainEvent } from '../domain/decider.js';
import { domainError, DomainFailure, isDomainError, type DomainError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { Projection } from '../projections/projection.js';
import { isStoreError } from '../store/errors.js';
import type { EventStore } from '../store/event-store.js';
import type { EventMetadata, ExpectedVersion, RecordedEvent } from '../store/types.js';

export type Tx = postgres.TransactionSql<{ bigint: bigint }>;

export interface PlannedAppend {
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  readonly events: readonly DomainEvent[];
}

/** What a command handler decided: appends to make atomically, and what to answer. */
export interface Plan<R> {
  readonly appends: readonly PlannedAppend[];
  readonly result: R;
}

/**
 * Loads what it needs through `tx`, calls pure deciders and answers a plan or a domain error.
 * It may run more than once: on a version conflict or a read-model constraint race the whole
 * transaction is retried, so a handler must not have side effects outside `tx`.
 */
export type CommandHandler<R> = (tx: Tx, attempt: number) => Promise<Plan<R> | DomainError>;

/**
 * A rule the command side holds over what an append does to the read model. It is called after
 * the events are appended and before the projections run, and must send its reads before its
 * first await (they share a round trip with the projections' writes, and must run before them);
 * the check it answers runs after them, in the same transaction, and an error it returns vetoes
 * the whole append.
 */
export type AppendRule = (tx: Tx, events: readonly RecordedEvent[]) => Promise<() => Promise<DomainError | null>>;

export type CommandOutcome<R> =
  | { readonly ok: true; readonly result: R; readonly events: readonly RecordedEvent[]; readonly cursor: string | null }
  | { readonly ok: false; readonly error: DomainError };

/** One command's outcome for metrics: `ok` or its error's code, events appended, time taken. */
export interface CommandObservation {
  readonly result: string;
  readonly events: number;
  readonly seconds: number;
}

/** Races that a fresh attempt resolves: a stream moved on, or a read-model unique row was taken. */
function isRetryable(e: unknown): boolean {
  if (isStoreError(e, 'WrongExpectedVersion')) return true;
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === '40001' || code === '40P01';
}

export class CommandRuntime {
  constructor(
    private readonly sql: Sql,
    readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly rules: readonly AppendRule[],
    private readonly options: { maxAttempts?: number; log?: Logger } = {},
  ) {}

  /** Told of every command that ended in an outcome (the API's metrics); it cannot change it. */
  observer?: (o: CommandObservation) => void;

  async execute<R>(metadata: EventMetadata, handler: CommandHandler<R>): Promise<CommandOutcome<R>> {
    const started = performance.now();
    const outcome = await this.attempt(metadata, handler);
    this.observer?.({
      result: outcome.ok ? 'ok' : outcome.error.code,
      events: outcome.ok ? outcome.events.length : 0,
      seconds: (performance.now() - started) / 1000,
    });
    return outcome;
  }

  private async attempt<R>(metadata: EventMetadata, handler: CommandHandler<R>): Promise<CommandOutcome<R>> {
    const maxAttempts = this.options.maxAttempts ?? 25;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.sql.begin(async (tx) => {
          // First, before the handler's row locks give the transaction an id (see beginAppend).
          // Not awaited alone: the handler's first statements follow it down the same connection
          // (pipelined, run in order), which saves a round trip; its error, if any, comes first.
          const [, plan] = await Promise.all([this.store.beginAppend(tx), handler(tx, attempt)]);
          if (isDomainError(plan)) return { ok: false as const, error: plan };
          const events: RecordedEvent[] = [];
          for (const a of plan.appends) {
            if (a.events.length === 0) continue;
            const r = await this.store.appendIn(tx, a.streamId, a.expected, a.events, metadata);
            events.push(...r.events);
          }
          if (events.length > 0) {
            // The rules' first reads and every projection's writes go down the connection one
            // behind the other, in this order, without waiting for each other: one round trip.
            // Each part sends its statements before its first await, so the order holds.
            const ruled = this.rules.map((rule) => rule(tx, events));
            const applied = this.projections.map((p) => p.apply(tx, events));
            const [checks] = await pipelined([Promise.all(ruled), ...applied] as const);
            for (const error of await Promise.all(checks.map((check) => check()))) if (error) throw new DomainFailure(error);
          }
          const last = events[events.length - 1];
          return { ok: true as const, result: plan.result, events, cursor: last ? last.cursor : null };
        });
        if (outcome.ok && outcome.events.length > 0) this.store.committed(outcome.events);
        return outcome;
      } catch (e) {
        if (e instanceof DomainFailure) return { ok: false, error: e.error };
        if (!isRetryable(e)) throw e;
        if (attempt >= maxAttempts) {
          this.options.log?.warn({ err: e, attempt }, 'command gave up after repeated conflicts');
          return {
            ok: false,
            error: domainError('ConcurrentModification', 'the resource kept changing while this request was applied; try again'),
          };
        }
        // Full jitter: concurrent losers spread out instead of colliding again in lockstep.
        const cap = Math.min(200, 2 * 2 ** attempt);
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
  }
}
