import type { DomainEvent } from '../../domain/decider.js';
import type { EventDefinition } from '../../domain/event-definition.js';
import type { Lifecycle, ResourceBase } from '../../domain/common/index.js';
import { RESOURCE_KINDS, type ResourceKind } from '../../domain/kinds.js';
import { defineKind, type AggregateKind } from '../aggregate-kind.js';

/**
 * The read-model view of an aggregate whose state is a Lifecycle of one resource: one row while
 * live, none once deleted.
 */
export function lifecycleKind<R extends ResourceBase, E extends DomainEvent>(options: {
  kind: ResourceKind;
  events: readonly EventDefinition[];
  decider: { initialState: Lifecycle<R>; evolve(s: Lifecycle<R>, e: E): Lifecycle<R> };
  networkId?: (r: R) => string | null;
}): AggregateKind {
  return defineKind<Lifecycle<R>, E>({
    streamType: RESOURCE_KINDS[options.kind].streamType,
    eventTypes: options.events.map((d) => d.type),
    initialState: options.decider.initialState,
    evolve: (s, e) => options.decider.evolve(s, e),
    resources: (s) =>
      s.status !== 'live'
        ? []
        : [
            {
              id: s.resource.id,
              kind: options.kind,
              project: s.resource.project,
              name: s.resource.name,
              tags: s.resource.tags,
              networkId: options.networkId?.(s.resource) ?? null,
              revision: s.revision,
              createdAt: s.resource.createdAt,
              updatedAt: s.resource.updatedAt,
              doc: s.resource,
            },
          ],
  });
}
