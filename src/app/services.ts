import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { DomainError } from '../domain/errors.js';
import type { Port } from '../domain/port/index.js';
import type { Logger } from '../log.js';
import type { AggregateProjection } from '../projections/aggregate-projection.js';
import type { EventStore } from '../store/event-store.js';
import type { LogWaker } from '../store/log-waker.js';
import type { CommandRuntime, PlannedAppend, Tx } from './command-runtime.js';

/**
 * Supplies the project's default security group (creating it, on the project's first request) for
 * a port created without groups: its id and the appends that create it, if any.
 */
export type DefaultSecurityGroupHook = (
  s: Services,
  tx: Tx,
  projectId: string,
  now: string,
) => Promise<{ id: string; appends: PlannedAppend[] } | DomainError>;

/** Reacts inside a port delete, in its transaction (floating IPs let go of the port). */
export type PortDeleteHook = (s: Services, tx: Tx, port: Port, now: string) => Promise<PlannedAppend[] | DomainError>;

/** The addresses a port update gave and took: what a floating IP pointing at the port must follow. */
export interface FixedIpChange {
  readonly allocated: readonly { readonly subnetId: string; readonly ipAddress: string }[];
  readonly released: readonly { readonly subnetId: string; readonly ipAddress: string }[];
}

/** Reacts inside a port update that released addresses, in its transaction (floating IPs follow or let go). */
export type PortFixedIpsHook = (
  s: Services,
  tx: Tx,
  port: Port,
  change: FixedIpChange,
  now: string,
) => Promise<PlannedAppend[] | DomainError>;

/**
 * What one module's commands trigger in another's, assembled in bootstrap.ts: the networking
 * module reaches routing and security only through these, so it depends on neither.
 */
export interface CommandHooks {
  readonly defaultSecurityGroup: DefaultSecurityGroupHook | null;
  readonly portDelete: readonly PortDeleteHook[];
  readonly portFixedIpsReleased: readonly PortFixedIpsHook[];
}

/** What the API, CLI and agent share in one process. */
export interface Services {
  readonly config: Config;
  readonly sql: Sql;
  readonly store: EventStore;
  readonly waker: LogWaker;
  readonly runtime: CommandRuntime;
  readonly aggregates: AggregateProjection;
  readonly hooks: CommandHooks;
  readonly log: Logger;
}
