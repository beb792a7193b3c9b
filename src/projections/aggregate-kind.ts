import type { DomainEvent } from '../domain/decider.js';

/** One resource row a state exposes to readers. */
export interface ResourceRow {
  readonly id: string;
  readonly kind: string;
  readonly project: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly networkId?: string | null;
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly doc: unknown;
}

/**
 * How the read model sees one aggregate type: its decider's fold, and the resources its state
 * exposes (none once deleted; a load balancer exposes its whole tree).
 */
export interface AggregateKind<S = unknown, E extends DomainEvent = DomainEvent> {
  /** The stream id prefix, e.g. `network` for `network-<uuid>`. */
  readonly streamType: string;
  readonly eventTypes: readonly string[];
  readonly initialState: S;
  evolve(state: S, event: E): S;
  resources(state: S, version: number): readonly ResourceRow[];
}

export function defineKind<S, E extends DomainEvent>(kind: AggregateKind<S, E>): AggregateKind {
  return kind as unknown as AggregateKind;
}
