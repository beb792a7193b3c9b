import type { Queryable } from '../db/sql.js';
import type { ProjectedEvent } from '../store/types.js';

/**
 * A projection turns events into rows. Inline projections run inside the append transaction, so
 * a mutation reads its own write and read-model constraints (unique addresses, ids) can veto
 * an append; the same `apply` replays the whole log on rebuild.
 */
export interface Projection {
  readonly name: string;
  apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void>;
  /** Empties the projection's tables before a rebuild. */
  reset(q: Queryable): Promise<void>;
}
