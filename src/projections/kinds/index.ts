import type { EventDefinition } from '../../domain/event-definition.js';
import type { AggregateKind } from '../aggregate-kind.js';

/** Every aggregate type the read model folds. */
export const resourceKinds: readonly AggregateKind[] = [];
export const resourceEvents: readonly EventDefinition[] = [];
