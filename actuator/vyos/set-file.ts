/**
 * `set …` files — a router's config as `show configuration commands` prints it, or as a person writes it
 * (GitOps) — read into the `/retrieve showConfig` tree shape. Every line is resolved through the one VyOS
 * schema of the router's version (./schema): which words are the path and which one is the value is the
 * schema's to say, so values may be quoted or bare, and a value the schema refuses is an error naming its
 * line. The schema is pathpilot's trimmed one, so a real router's file names nodes it does not know
 * (`system host-name`): those lines are read by the quoting convention of `show configuration commands`
 * (the value, if any, is the last word, quoted) — pathpilot never writes them, it reports them. Secret
 * leaves are not read (their node is): a repository's files hold them redacted, and nothing compares or
 * writes them (kept.ts).
 */
import { ValidationError, errorMessage } from '../../core/errors.ts';
import { isSecretKey } from '../../core/redact.ts';
import { parseSetLine } from './diff.ts';
import { validateOp } from './paths.ts';
import { schemaFor, walkPath, type ResolvedPath } from './schema/index.ts';
import type { ConfigJson, VyosVersion } from './types.ts';

import { splitCommand } from './words.ts';

export { splitCommand };

/** The node at `path` of `root`, created (as an empty node) where missing. */
function ensureNode(root: ConfigJson, path: readonly string[]): ConfigJson {
  let node = root;
  for (const k of path) {
    const next = node[k];
    if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[k] = {};
    node = node[k] as ConfigJson;
  }
  return node;
}

/** Adds one resolved `set` to the tree as VyOS would: a multi-value leaf gains the value, a single one is replaced. */
function applySet(root: ConfigJson, r: ResolvedPath): void {
  if (r.schema.kind !== 'leaf') {
    ensureNode(root, r.nodePath);
    return;
  }
  const parent = ensureNode(root, r.nodePath.slice(0, -1));
  const leaf = r.nodePath[r.nodePath.length - 1]!;
  if (r.value === undefined) parent[leaf] = {};
  else if (!r.schema.multi) parent[leaf] = r.value;
  else {
    const had = parent[leaf];
    const values = typeof had === 'string' ? [had] : Array.isArray(had) ? had : [];
    if (!values.includes(r.value)) values.push(r.value);
    parent[leaf] = values.length === 1 ? values[0]! : values;
  }
}

/** Adds a line beyond the schema as `parseSetLine` reads it (several values of one leaf make a list). */
function applyUnknown(root: ConfigJson, { path, value }: { path: string[]; value?: string }): void {
  const leaf = path[path.length - 1]!;
  const parent = ensureNode(root, path.slice(0, -1));
  if (value === undefined) ensureNode(parent, [leaf]);
  else if (isSecretKey(leaf)) return;
  else {
    const had = parent[leaf];
    if (typeof had === 'string') parent[leaf] = had === value ? had : [had, value];
    else if (Array.isArray(had)) {
      if (!had.includes(value)) had.push(value);
    } else parent[leaf] = value;
  }
}

/**
 * The config tree a `set` file describes on a router of `version`. Blank lines and `#` comments are skipped;
 * a line that is not `set`, or gives a node the schema knows a value it refuses (or words after its value),
 * throws a ValidationError naming the line.
 */
export function parseSetFile(text: string, version: VyosVersion): ConfigJson {
  const schema = schemaFor(version);
  const root: ConfigJson = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `line ${index + 1}`;
    if (!/^set\s/.test(line)) throw new ValidationError(`${at}: only "set" lines and "#" comments are read`);
    const words = splitCommand(line.slice(4));
    // A secret leaf (a redacted key, a PSK): its node exists, its value is the router's own (kept.ts).
    const loose = walkPath(schema, words, { op: 'delete', routerState: 'defer' });
    if (loose.ok && loose.path.schema.kind === 'leaf' && isSecretKey(loose.path.nodePath[loose.path.nodePath.length - 1]!)) {
      ensureNode(root, loose.path.nodePath.slice(0, -1));
      return;
    }
    const beyond = !loose.ok && loose.problem.kind === 'unknown-node' ? parseSetLine(line) : undefined;
    if (beyond) {
      applyUnknown(root, beyond);
      return;
    }
    try {
      validateOp(version, { op: 'set', path: words });
    } catch (err) {
      throw new ValidationError(`${at}: ${errorMessage(err)}`);
    }
    const resolved = walkPath(schema, words, { op: 'set', routerState: 'defer' });
    if (resolved.ok) applySet(root, resolved.path);
  });
  return root;
}
