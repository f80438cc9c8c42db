/**
 * Desired against running, as the few whole subtrees a `config-subtrees` intent sets: every path that differs
 * (secrets and kept paths aside, vyos/kept.ts) is cut to its unit — down to the first tag value (`firewall
 * ipv4 forward filter rule 10`, `interfaces wireguard wg1`, `protocols static route 10.0.0.0/8`), or to the
 * node above a leaf where no tag value comes first (`system` for `system syslog …`, `load-balancing wan` for
 * `disable-source-nat`) — so a change touches what a person would name, and the engine's snapshots, minimal
 * diffs and exact rollback work on those units. A unit under another is dropped (the larger one is written
 * whole), and so is one whose write would change nothing once the router's kept parts are put back.
 *
 * What lies beyond pathpilot's VyOS schema (`system host-name`, `nat` …) is never written — the engine
 * validates every op against that schema — so it is kept like a secret: left as the router holds it inside a
 * unit written, and reported (not proposed) where it differs.
 */
import { diffOps, pathKey, sameConfig, setOps } from '../vyos/diff.ts';
import { withKept, withoutKept } from '../vyos/kept.ts';
import { schemaFor, walkPath } from '../vyos/schema/index.ts';
import { nodeAt } from '../vyos/tree.ts';
import { subtree } from '../targets/types.ts';
import type { ConfigJson, ConfigOp, VyosVersion } from '../vyos/types.ts';

export interface DifferingSubtree {
  path: string[];
  /** What the repository wants there, kept parts aside (null: absent). */
  desired: ConfigJson | null;
  /** The ops from running to desired in this unit, kept parts aside (the drift report's lines). */
  ops: ConfigOp[];
}

export interface SubtreeDiff {
  subtrees: DifferingSubtree[];
  /** Paths beyond the schema inside the subtrees: the intent keeps them as the router holds them. */
  keep: string[][];
  /** Paths beyond the schema whose desired and running differ: reported, never written. */
  unknown: string[];
}

const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((w, i) => path[i] === w);

/** The unit a config path (no value) belongs to; undefined when the schema does not know the path. */
export function unitOf(version: VyosVersion, path: readonly string[]): string[] | undefined {
  const r = walkPath(schemaFor(version), path, { op: 'delete', routerState: 'defer' });
  if (!r.ok) return undefined;
  const { nodePath, kinds } = r.path;
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === 'tagvalue') return nodePath.slice(0, i + 1);
    if (kinds[i] === 'leaf') return i === 0 ? undefined : nodePath.slice(0, i);
  }
  return nodePath;
}

/** Where `tree` goes beyond the version's schema: the path to each first word it does not know. */
export function outOfSchema(version: VyosVersion, tree: ConfigJson): string[][] {
  const schema = schemaFor(version);
  const roots = new Map<string, string[]>();
  for (const op of setOps([], tree)) {
    const r = walkPath(schema, op.path, { op: 'delete', routerState: 'defer' });
    if (r.ok || !('at' in r.problem)) continue;
    // An unknown word is the root; words below what the schema takes for a leaf make the leaf the root.
    const root = op.path.slice(0, Math.max(1, r.problem.kind === 'unknown-node' ? r.problem.at + 1 : r.problem.at));
    roots.set(pathKey(root), root);
  }
  return [...roots.values()];
}

/** Every path an op changes, a deleted node spelled out leaf by leaf (so it is cut to units like a set). */
function changedPaths(op: ConfigOp, running: ConfigJson): string[][] {
  if (op.op !== 'delete' || op.value !== undefined) return [op.path];
  const gone = subtree(running, op.path);
  const leaves = gone ? setOps(op.path, gone).map((o) => o.path) : [];
  return leaves.length ? leaves : [op.path];
}

/** Whether two configs hold the same node at `path` (a leaf's values or a subtree). */
function sameAt(a: ConfigJson, b: ConfigJson, path: readonly string[]): boolean {
  const wrap = (c: ConfigJson) => {
    const n = nodeAt(c, ...path);
    return n === undefined ? null : { n };
  };
  return sameConfig(wrap(a), wrap(b));
}

/**
 * The subtrees of a router to write so it runs `desired` (both whole configs), kept parts aside; `keep`:
 * paths kept besides secrets and `service https`.
 */
export function differingSubtrees(
  version: VyosVersion,
  running: ConfigJson,
  desired: ConfigJson,
  keep: readonly (readonly string[])[] = [],
): SubtreeDiff {
  const beyond = new Map<string, string[]>();
  for (const root of [...outOfSchema(version, running), ...outOfSchema(version, desired)]) beyond.set(pathKey(root), root);
  const kept = [...keep, ...beyond.values()];
  const have = withoutKept([], running, kept) ?? {};
  const want = withoutKept([], desired, kept) ?? {};
  const units = new Map<string, string[]>();
  for (const op of diffOps([], have, want))
    for (const path of changedPaths(op, have)) {
      const unit = unitOf(version, path);
      if (unit) units.set(pathKey(unit), unit);
    }
  const chosen: string[][] = [];
  for (const unit of [...units.values()].sort((a, b) => a.length - b.length))
    if (!chosen.some((c) => startsWith(unit, c))) chosen.push(unit);
  const subtrees: DifferingSubtree[] = [];
  for (const path of chosen.sort((a, b) => pathKey(a).localeCompare(pathKey(b)))) {
    const before = subtree(running, path);
    const wanted = subtree(want, path);
    if (diffOps(path, before, withKept(path, wanted, before, kept)).length === 0) continue;
    subtrees.push({ path, desired: wanted, ops: diffOps(path, subtree(have, path), wanted) });
  }
  // Compared without secrets; the roots themselves are only named, never their values.
  const [haveAll, wantAll] = [withoutKept([], running, keep) ?? {}, withoutKept([], desired, keep) ?? {}];
  const unknown = [...beyond.values()].filter((root) => !sameAt(haveAll, wantAll, root)).map(pathKey);
  return {
    subtrees,
    keep: [...beyond.values()].filter((root) => subtrees.some((s) => startsWith(root, s.path))),
    unknown: unknown.sort(),
  };
}
