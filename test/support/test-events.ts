import { z } from 'zod';
import { defineEvent } from '../../src/domain/event-definition.js';
import { EventRegistry } from '../../src/store/event-registry.js';

export const Pinged = defineEvent('Pinged', z.object({ n: z.number().int(), writer: z.string() }));
// v1 stored `{ label }`; v2 renamed it to `name`.
export const Renamed = defineEvent('Renamed', z.object({ name: z.string().min(1) }), {
  version: 2,
  upcasters: { 1: (d) => ({ name: (d as { label: string }).label }) },
});

export function testRegistry(): EventRegistry {
  return new EventRegistry([Pinged, Renamed]);
}
