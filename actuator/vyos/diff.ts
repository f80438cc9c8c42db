/**
 * Config-tree arithmetic over the `/retrieve showConfig` JSON shape: the minimal ops that turn one
 * subtree into another, equality, and `set …` lines (GitOps and IaC export) with their reading back.
 */
import type { ConfigJson, ConfigOp } from './types.ts';
import { commandWords } from './words.ts';

type Value = ConfigJson | string | string[];

const isObj = (v: Value | undefined): v is ConfigJson => v !== undefined && typeof v === 'object' && !Array.isArray(v);
const valuesOf = (v: Value): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

/** Every leaf of `tree` as set ops (a valueless leaf or empty node is a path without value). */
export function setOps(base: string[], tree: ConfigJson): ConfigOp[] {
  const out: ConfigOp[] = [];
  const walk = (path: string[], node: ConfigJson) => {
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length > base.length) out.push({ op: 'set', path });
    for (const k of keys) {
      const v = node[k]!;
      if (isObj(v)) walk([...path, k], v);
      else for (const value of valuesOf(v)) out.push({ op: 'set', path: [...path, k], value });
    }
  };
  walk(base, tree);
  return out;
}

/**
 * Ops that turn `current` (the children of `base`, or null when unset) into `desired`: deletes of
 * what must go (the highest node that goes entirely), then sets of what is missing. A single-value
 * leaf that changes is deleted and set again, so the result is exact for multi-value leaves too.
 */
export function diffOps(base: string[], current: ConfigJson | null, desired: ConfigJson | null): ConfigOp[] {
  if (desired === null) return current === null ? [] : [{ op: 'delete', path: base }];
  if (current === null) {
    const sets = setOps(base, desired);
    return sets.length > 0 ? sets : [{ op: 'set', path: base }];
  }
  const deletes: ConfigOp[] = [];
  const sets: ConfigOp[] = [];
  const walk = (path: string[], cur: ConfigJson, des: ConfigJson) => {
    // A node that must stay, empty (`address-family ipv4-unicast {}`): deleting its last child may take it
    // with it (the emulator prunes empty parents), so it is set again after the deletes.
    if (Object.keys(des).length === 0 && Object.keys(cur).length > 0) sets.push({ op: 'set', path });
    for (const k of Object.keys(cur)) {
      const c = cur[k]!;
      const d = des[k];
      if (d === undefined) {
        deletes.push({ op: 'delete', path: [...path, k] });
      } else if (isObj(c) && isObj(d)) {
        walk([...path, k], c, d);
      } else if (isObj(c) !== isObj(d)) {
        deletes.push({ op: 'delete', path: [...path, k] });
        if (isObj(d)) sets.push(...setOps([...path, k], d));
        else for (const value of valuesOf(d)) sets.push({ op: 'set', path: [...path, k], value });
      } else {
        const cv = valuesOf(c);
        const dv = valuesOf(d);
        for (const v of cv) if (!dv.includes(v)) deletes.push({ op: 'delete', path: [...path, k], value: v });
        for (const v of dv) if (!cv.includes(v)) sets.push({ op: 'set', path: [...path, k], value: v });
      }
    }
    for (const k of Object.keys(des)) {
      if (cur[k] !== undefined) continue;
      const d = des[k]!;
      if (isObj(d)) {
        const s = setOps([...path, k], d);
        sets.push(...(s.length > 0 ? s : [{ op: 'set' as const, path: [...path, k] }]));
      } else for (const value of valuesOf(d)) sets.push({ op: 'set', path: [...path, k], value });
    }
  };
  walk(base, current, desired);
  return [...deletes, ...sets];
}

/** Structural equality of two subtrees (order of keys and of multi-values ignored). */
export function sameConfig(a: ConfigJson | null, b: ConfigJson | null): boolean {
  const emptyA = a === null || Object.keys(a).length === 0;
  const emptyB = b === null || Object.keys(b).length === 0;
  if (emptyA || emptyB) return emptyA && emptyB;
  return diffOps([], a, b).length === 0;
}

/** A deep copy (configs are plain JSON). */
export function cloneConfig<T extends ConfigJson | null>(c: T): T {
  return c === null ? c : (JSON.parse(JSON.stringify(c)) as T);
}

/**
 * `set …` lines for a subtree, values single-quoted as `show configuration commands` prints them (VyOS
 * refuses quotes and newlines inside a value, so the quotes always hold).
 */
export function setLines(base: string[], tree: ConfigJson | null): string[] {
  if (tree === null) return [];
  return setOps(base, tree).map((op) => ['set', ...op.path, ...(op.value !== undefined ? [`'${op.value}'`] : [])].join(' '));
}

/**
 * A `set …` line read back into its path and value (undefined for any other line). The value is the last
 * word when it is quoted, as `setLines` and `show configuration commands` write it; an unquoted last word
 * stays part of the path (`set system host-name r1` is the same command either way).
 */
export function parseSetLine(line: string): { path: string[]; value?: string } | undefined {
  const words = commandWords(line.trim());
  if (words[0]?.text !== 'set' || words[0].quoted || words.length < 2) return undefined;
  const last = words[words.length - 1]!;
  const path = words.slice(1, last.quoted ? -1 : undefined).map((w) => w.text);
  if (path.length === 0) return undefined;
  return last.quoted ? { path, value: last.text } : { path };
}

/** Stable text key of a config path. */
export function pathKey(path: readonly string[]): string {
  return path.join(' ');
}

/**
 * A copy of `tree` with the subtree at `path` replaced by `sub` (null or empty: removed, and parents left
 * empty by it too, as a router prunes them). What a router's config will be once a touched subtree is applied.
 */
export function withSubtree(tree: ConfigJson, path: readonly string[], sub: ConfigJson | null): ConfigJson {
  const out = cloneConfig(tree);
  const parents: ConfigJson[] = [out];
  let node = out;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (next === undefined || typeof next === 'string' || Array.isArray(next)) {
      if (sub === null) return out;
      node[k] = {};
    }
    node = node[k] as ConfigJson;
    parents.push(node);
  }
  const last = path[path.length - 1]!;
  if (sub === null || Object.keys(sub).length === 0) {
    delete node[last];
    for (let i = parents.length - 1; i > 0 && Object.keys(parents[i]!).length === 0; i--) delete parents[i - 1]![path[i - 1]!];
  } else node[last] = cloneConfig(sub);
  return out;
}
