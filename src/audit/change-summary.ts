/** One field of a resource that an event changed. */
export interface FieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** Fields every change moves; listing them would only repeat the event's time and number. */
const NOISE = new Set(['updatedAt', 'revision']);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key order does not make a difference (read-model documents come back from jsonb re-ordered). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function diffDocs(before: Record<string, unknown> | null, after: Record<string, unknown> | null): FieldChange[] {
  if (!before || !after) return [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !NOISE.has(k)).sort();
  return keys.filter((k) => !same(before[k], after[k])).map((k) => ({ field: k, from: before[k] ?? null, to: after[k] ?? null }));
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

/** A line a person reads: "created port web-1", "name: a → b, adminStateUp: true → false", "deleted". */
export function summarize(
  kind: string,
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  changes: readonly FieldChange[],
  eventType: string,
): string {
  if (!before && after) return `created ${kind}${after.name ? ` ${show(after.name)}` : ''}`;
  if (before && !after) return `deleted ${kind}${before.name ? ` ${show(before.name)}` : ''}`;
  if (changes.length === 0) return `${eventType} (no visible change)`;
  return changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`).join(', ');
}
