/** Readers over a `/retrieve showConfig` tree: one node, a tag node's children, a leaf's values. */
import type { ConfigJson } from './types.ts';

/** Any node of a config tree: a subtree, a leaf's value or values, or nothing. */
export type ConfigNode = ConfigJson | string | string[] | undefined;

/** The node at `path` of a config tree (undefined when absent). */
export function nodeAt(config: ConfigNode, ...path: string[]): ConfigNode {
  let n: ConfigNode = config;
  for (const k of path) {
    if (n === undefined || typeof n === 'string' || Array.isArray(n)) return undefined;
    n = n[k];
  }
  return n;
}

/** A tag node's children (`{}` when absent or not a tag node). */
export function tagsAt(config: ConfigNode, ...path: string[]): Record<string, ConfigJson> {
  const n = nodeAt(config, ...path);
  return n && typeof n === 'object' && !Array.isArray(n) ? (n as Record<string, ConfigJson>) : {};
}

/** A leaf's values as a list (multi or single value; `[]` when absent). */
export function valuesAt(config: ConfigNode, ...path: string[]): string[] {
  const n = nodeAt(config, ...path);
  if (typeof n === 'string') return [n];
  if (Array.isArray(n)) return n;
  return [];
}
