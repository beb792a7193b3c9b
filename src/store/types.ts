import type { LogPosition } from './cursor.js';

/** Who and why: recorded with every event. */
export interface EventMetadata {
  readonly actor?: string;
  readonly tokenName?: string;
  readonly project?: string;
  readonly requestId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly [key: string]: unknown;
}

/** What a writer hands to append. */
export interface NewEvent {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
}

/** An event as read from the log. */
export interface RecordedEvent<D = unknown> {
  readonly id: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: D;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
  readonly position: LogPosition;
  /** The opaque cursor of this event. */
  readonly cursor: string;
}

/**
 * What a projection folds: an event without who recorded it, when, or its cursor. A rebuild reads
 * the whole log, and those columns cost about as much again to fetch and decode as these.
 */
export type ProjectedEvent<D = unknown> = Pick<RecordedEvent<D>, 'streamId' | 'streamVersion' | 'type' | 'data' | 'position'>;

/** Expected stream version for an append. */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

export interface AppendResult {
  readonly streamId: string;
  /** The stream version after the append. */
  readonly version: number;
  /** True when every event id was already stored: nothing was written. */
  readonly duplicate: boolean;
  /** The events as stored (empty for a duplicate). */
  readonly events: readonly RecordedEvent[];
}
