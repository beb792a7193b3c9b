import type { EventDefinition } from '../domain/event-definition.js';
import { projectEvents } from '../domain/project/index.js';
import { agentEvents } from '../domain/agent/index.js';
import { EventRegistry } from '../store/event-registry.js';
import type { AggregateKind } from '../projections/aggregate-kind.js';
import { resourceKinds, resourceEvents } from '../projections/kinds/index.js';

/** Every event type the log may hold. */
export function eventRegistry(): EventRegistry {
  return new EventRegistry([...projectEvents, ...resourceEvents, ...agentEvents] as EventDefinition[]);
}

export function aggregateKinds(): readonly AggregateKind[] {
  return resourceKinds;
}
