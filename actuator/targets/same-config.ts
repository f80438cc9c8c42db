/**
 * Whether two config values are the same as a router holds them: a multi-value leaf with one value is a
 * string, several are a list in the router's order, so lists compare as sets and objects by key.
 */
export function sameConfig(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 1 ? String(v[0]) : [...v].map(String).sort();
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}
