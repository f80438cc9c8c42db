/**
 * What a whole-subtree write from outside (GitOps: config-subtrees intents) never changes, and the config
 * arithmetic that keeps it so: secret leaves — private keys, PSKs, passwords, API keys, core/redact.ts's
 * secret words — which a repository people read cannot hold (its files are redacted); pathpilot's own access
 * to the router, `service https`, which a file without it would cut, leaving pathpilot unable to roll back;
 * and whatever paths the caller keeps too (subtrees another owner manages). Configs are compared without them
 * (`withoutKept`) and written with the router's own (`withKept`).
 */
import { isSecretKey } from '../../core/redact.ts';
import { cloneConfig } from './diff.ts';
import type { ConfigJson } from './types.ts';

/** Kept on every router, whatever the caller says: the API pathpilot reaches the router through. */
export const ALWAYS_KEPT: readonly (readonly string[])[] = [['service', 'https']];

type Node = ConfigJson[string];
const isObj = (v: Node | undefined): v is ConfigJson => v !== undefined && typeof v === 'object' && !Array.isArray(v);

const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((w, i) => path[i] === w);

/** Whether `path` lies in a kept subtree (`keep` plus `ALWAYS_KEPT`). */
export function isKeptPath(path: readonly string[], keep: readonly (readonly string[])[]): boolean {
  return ALWAYS_KEPT.some((k) => startsWith(path, k)) || keep.some((k) => startsWith(path, k));
}

/** A leaf holding a secret: its value is a string or list under a secret word (a node named so is a tag value). */
const isSecretLeaf = (key: string, v: Node) => !isObj(v) && isSecretKey(key);

/**
 * `tree`, the subtree at `base`, without its kept subtrees and secret leaves: what a comparison sees. The nodes
 * that held them stay (emptied to `{}` when nothing else is left), so an interface whose only leaf is its key
 * still exists on both sides. Null when `base` itself is kept or `tree` is null.
 */
export function withoutKept(
  base: readonly string[],
  tree: ConfigJson | null,
  keep: readonly (readonly string[])[],
): ConfigJson | null {
  if (tree === null || isKeptPath(base, keep)) return null;
  const strip = (path: string[], node: ConfigJson): ConfigJson => {
    const out: ConfigJson = {};
    for (const [k, v] of Object.entries(node)) {
      const at = [...path, k];
      if (isKeptPath(at, keep) || isSecretLeaf(k, v)) continue;
      out[k] = isObj(v) ? strip(at, v) : Array.isArray(v) ? [...v] : v;
    }
    return out;
  };
  return strip([...base], tree);
}

/**
 * What the subtree at `base` must hold once `desired` is written over `before` (the router's, before the
 * change): `desired` without kept parts and secrets, then the router's kept subtrees put back where they were
 * (parents created), and its secret leaves where their node is still desired (a deleted peer takes its
 * pre-shared key with it). `base` itself kept: `before`, unchanged.
 */
export function withKept(
  base: readonly string[],
  desired: ConfigJson | null,
  before: ConfigJson | null,
  keep: readonly (readonly string[])[],
): ConfigJson | null {
  if (isKeptPath(base, keep)) return cloneConfig(before);
  let out = withoutKept(base, desired, keep);
  const nodeAt = (rel: readonly string[], create: boolean): ConfigJson | undefined => {
    if (out === null) {
      if (!create) return undefined;
      out = {};
    }
    let node: ConfigJson = out;
    for (const k of rel) {
      const next = node[k];
      if (!isObj(next)) {
        if (!create) return undefined;
        node[k] = {};
      }
      node = node[k] as ConfigJson;
    }
    return node;
  };
  const graft = (rel: string[], node: ConfigJson) => {
    for (const [k, v] of Object.entries(node)) {
      const at = [...rel, k];
      if (isKeptPath([...base, ...at], keep)) nodeAt(rel, true)![k] = isObj(v) ? cloneConfig(v) : v;
      else if (isSecretLeaf(k, v)) {
        const parent = nodeAt(rel, false);
        if (parent) parent[k] = Array.isArray(v) ? [...v] : v;
      } else if (isObj(v)) graft(at, v);
    }
  };
  if (before !== null) graft([], before);
  return out;
}
