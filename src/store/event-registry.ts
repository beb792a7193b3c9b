import type { EventDefinition } from '../domain/event-definition.js';
import { StoreError } from './errors.js';

/**
 * Every event type the log may hold. Data is validated with its zod schema on append and on read;
 * data stored under an older schema version is upcast step by step before validation.
 */
export class EventRegistry {
  private readonly byType = new Map<string, EventDefinition>();

  constructor(definitions: Iterable<EventDefinition> = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: EventDefinition): this {
    const known = this.byType.get(definition.type);
    if (known && known !== definition) throw new Error(`event type ${definition.type} is registered twice`);
    this.byType.set(definition.type, definition);
    return this;
  }

  definitions(): Iterable<EventDefinition> {
    return this.byType.values();
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  definition(type: string): EventDefinition {
    const d = this.byType.get(type);
    if (!d) throw new StoreError('UnknownEventType', `unknown event type ${type}`, { type });
    return d;
  }

  /** Validates data for append; answers the parsed data and the schema version to store. */
  encode(type: string, data: unknown): { data: unknown; version: number } {
    const d = this.definition(type);
    const parsed = d.schema.safeParse(data);
    if (!parsed.success) {
      throw new StoreError(
        'InvalidEventData',
        `invalid ${type} event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        {
          type,
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        },
      );
    }
    return { data: parsed.data, version: d.version };
  }

  /**
   * Stored data as a rebuild folds it: data of an older schema version is upcast and validated
   * (decode); data of the current version is taken as stored, not validated again. That is safe
   * because only two paths write the log and both validated it: append stores what `encode`'s
   * parse answered, and import (importLog's `validate`) decodes every event before it commits.
   * Parsing that data again would answer the same data: no event schema transforms, defaults or
   * rejects extra keys (test/store/event-schemas.test.ts walks them all).
   */
  decodeStored(type: string, version: number, data: unknown): unknown {
    return version === this.definition(type).version ? data : this.decode(type, version, data);
  }

  /** Upcasts and validates stored data for read. */
  decode(type: string, version: number, data: unknown): unknown {
    const d = this.definition(type);
    let current = data;
    for (let v = version; v < d.version; v++) {
      const up = d.upcasters[v];
      if (!up) throw new StoreError('InvalidEventData', `no upcaster for ${type} v${v} -> v${v + 1}`, { type, version: v });
      current = up(current);
    }
    const parsed = d.schema.safeParse(current);
    if (!parsed.success) {
      throw new StoreError('InvalidEventData', `stored ${type} event does not match its schema`, { type, issues: parsed.error.issues });
    }
    return parsed.data;
  }
}
