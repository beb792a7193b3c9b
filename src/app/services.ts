import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import type { AggregateProjection } from '../projections/aggregate-projection.js';
import type { EventStore } from '../store/event-store.js';
import type { LogWaker } from '../store/log-waker.js';
import type { CommandRuntime } from './command-runtime.js';

/** What the API, CLI and agent share in one process. */
export interface Services {
  readonly config: Config;
  readonly sql: Sql;
  readonly store: EventStore;
  readonly waker: LogWaker;
  readonly runtime: CommandRuntime;
  readonly aggregates: AggregateProjection;
  readonly log: Logger;
}
