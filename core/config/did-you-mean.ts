import type { z } from 'zod';

/**
 * Suggestions for unknown configuration keys: the known keys at the same level (read from the
 * zod schema that rejected the key) within edit distance 2.
 */

type PathKey = string | number;

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Looks through wrappers (default, optional, nullable, pipe/transform) to the schema that checks values. */
function unwrap(schema: z.ZodType): z.ZodType {
  for (let i = 0; i < 32; i++) {
    const def = defOf(schema);
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!next) return schema;
    schema = next;
  }
  return schema;
}

/** The keys an object schema at `path` (inside `schema`) knows, or [] when `path` is not an object. */
export function knownKeysAt(schema: z.ZodType, path: readonly PathKey[]): string[] {
  let at: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    if (!at) return [];
    const def = defOf(at);
    if (def.type === 'object' && typeof key === 'string') at = def.shape?.[key];
    else if (def.type === 'array') at = def.element;
    else if (def.type === 'record') at = def.valueType;
    else return [];
    at = at ? unwrap(at) : undefined;
  }
  if (!at) return [];
  const def = defOf(at);
  if (def.type === 'object') return Object.keys(def.shape ?? {});
  if (def.type === 'union') return [...new Set((def.options ?? []).flatMap((o) => knownKeysAt(o, [])))];
  return [];
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      best = Math.min(best, row[j]!);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest known key within distance 2 (case-insensitive), if any. */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const key of known) {
    const d = editDistance(unknown.toLowerCase(), key.toLowerCase(), 2);
    if (d <= 2 && (!best || d < best.d)) best = { key, d };
  }
  return best?.key;
}
