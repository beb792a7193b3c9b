import { describe, expect, it } from 'vitest';
import { eventRegistry } from '../../src/app/registry.js';

/** What zod keeps in a schema's definition: its kind and the schemas inside it. */
interface Def {
  type: string;
  [k: string]: unknown;
}
const defOf = (x: unknown): Def | undefined => (x as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/**
 * Every schema inside `root` whose parse could answer other data than it was given: transforms
 * (pipes), defaults and catches. Objects that reject extra keys count too: one of them after a
 * union's option stripped the keys it would have rejected could match on a second parse.
 */
function changingParts(root: unknown, path: string, seen = new Set<unknown>()): string[] {
  const def = defOf(root);
  if (!def || seen.has(root)) return [];
  seen.add(root);
  const found: string[] = [];
  if (['pipe', 'transform', 'default', 'prefault', 'catch'].includes(def.type)) found.push(`${path}: ${def.type}`);
  if (def.type === 'object' && defOf(def.catchall)?.type === 'never') found.push(`${path}: strict object`);
  if (def.type === 'lazy') found.push(...changingParts((def.getter as () => unknown)(), path, seen));
  for (const [k, v] of Object.entries(def)) {
    if (k === 'shape' && v && typeof v === 'object') {
      for (const [field, s] of Object.entries(v)) found.push(...changingParts(s, `${path}.${field}`, seen));
    } else if (Array.isArray(v)) {
      v.forEach((s, i) => found.push(...changingParts(s, `${path}/${k}[${i}]`, seen)));
    } else {
      found.push(...changingParts(v, `${path}/${k}`, seen));
    }
  }
  return found;
}

describe('event schemas', () => {
  // A rebuild takes stored data of the current schema version as written (EventRegistry.decodeStored):
  // the data append stored is what parse answered, so parsing it again must answer the same data.
  it('answer the data they were given when it holds: no transforms, defaults, catches or strict objects', () => {
    const definitions = [...eventRegistry().definitions()];
    expect(definitions.length).toBeGreaterThan(50);
    const found = definitions.flatMap((d) => changingParts(d.schema, d.type));
    expect(found).toEqual([]);
  });

  it('the walk finds what it looks for', async () => {
    const { z } = await import('zod');
    const s = z.object({
      a: z.string().default('x'),
      b: z.array(z.union([z.string(), z.strictObject({ c: z.number() })])),
      d: z.string().transform((v) => v.trim()),
    });
    expect(changingParts(s, 'T')).toEqual(['T.a: default', 'T.b/element/options[1]: strict object', 'T.d: pipe', 'T.d/out: transform']);
  });
});
