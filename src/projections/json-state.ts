/**
 * Aggregate states are plain data, but some hold Maps or Sets; this codec keeps them intact
 * through jsonb so the stored state folds on exactly as the in-memory one would.
 */
export function encodeState(state: unknown): unknown {
  return JSON.parse(encodeStateText(state));
}

/** encodeState as JSON text, for writes that send many states in one parameter without parsing them back first. */
export function encodeStateText(state: unknown): string {
  return JSON.stringify(state, (_k, v: unknown) => {
    if (v instanceof Map) return { $map: [...v.entries()] };
    if (v instanceof Set) return { $set: [...v.values()] };
    return v;
  });
}

export function decodeState<S>(json: unknown): S {
  return JSON.parse(JSON.stringify(json), (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o.$map) && Object.keys(o).length === 1) return new Map(o.$map as [unknown, unknown][]);
      if (Array.isArray(o.$set) && Object.keys(o).length === 1) return new Set(o.$set as unknown[]);
    }
    return v;
  }) as S;
}
