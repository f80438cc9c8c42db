/**
 * Whether two config values are the same as a router holds them: a multi-value leaf with one value is a
 * string, several are a list in the router's order, so lists compare as sets and objects by key.
 */
import type { ConfigJson } from '../vyos/types.ts';
import { subtree } from './types.ts';

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

/**
 * What a router's config lacks of whole subtrees a target owns (null: must be absent), one sentence each;
 * each subtree is named by `label(path)`.
 */
export function subtreeProblems(
  subtrees: readonly { path: string[]; desired: ConfigJson | null }[],
  config: ConfigJson,
  label: (path: readonly string[]) => string = (p) => p.join(' '),
): string[] {
  const problems: string[] = [];
  for (const s of subtrees) {
    const have = subtree(config, s.path);
    const name = label(s.path);
    if (s.desired === null) {
      if (have !== null) problems.push(`${name} is still configured`);
    } else if (have === null) problems.push(`${name} is missing`);
    else for (const [k, v] of Object.entries(s.desired)) if (!sameConfig(have[k], v)) problems.push(`${name} ${k} differs`);
  }
  return problems;
}
