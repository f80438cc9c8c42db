/**
 * The path walk over a version's schema: the words of a `set`/`delete` (path and value) become a
 * config-tree path, with every tag value and leaf value checked on a `set`. It answers with a
 * structured {@link PathProblem} instead of text, so each caller words it: the emulator as the
 * router does (lab/vyos/schema.ts), the actuator as a ValidationError naming its op (../paths.ts).
 */
import type { SchemaNode } from './build.ts';
import type { RouterStateChecks } from './validators.ts';

export interface WalkOptions {
  /**
   * `set` checks tag and leaf values (characters, constraints) and needs a value where the schema
   * wants one; `delete` checks only that the words name schema nodes (values go unchecked, as on VyOS).
   */
  op: 'set' | 'delete';
  /** What validators that read the router's state do: see {@link RouterStateChecks}. */
  routerState: RouterStateChecks;
}

/** Where a `set`/`delete` lands in the config tree. */
export interface ResolvedPath {
  /** Config-tree path: schema words plus tag values; for a leaf, the leaf itself (not its value). */
  nodePath: string[];
  schema: SchemaNode;
  /** The leaf value when the words carried one. */
  value?: string;
  /** What each element of nodePath is (tag values are `tagvalue`). */
  kinds: ('node' | 'tag' | 'tagvalue' | 'leaf')[];
}

/** A character VyOS never takes in a value (vyatta-cfg cli_new.c validate_value). */
export type ForbiddenCharacter = 'double-quote' | 'single-quote' | 'newline';

/**
 * Why words do not make a valid path; `at` is the index of the offending word (for
 * `words-after-value`, of the leaf value the extra words follow).
 */
export type PathProblem =
  | { kind: 'empty-path' }
  | { kind: 'empty-word'; at: number }
  | { kind: 'unknown-node'; at: number }
  | { kind: 'value-on-valueless-leaf'; at: number }
  | { kind: 'words-after-value'; at: number }
  | { kind: 'tag-value-whitespace'; at: number }
  | { kind: 'forbidden-character'; at: number; character: ForbiddenCharacter; node: SchemaNode }
  | { kind: 'invalid-value'; at: number; node: SchemaNode }
  | { kind: 'requires-value' };

export type WalkResult = { ok: true; path: ResolvedPath } | { ok: false; problem: PathProblem };

function forbiddenCharacter(value: string): ForbiddenCharacter | undefined {
  if (value.includes('"')) return 'double-quote';
  if (value.includes("'")) return 'single-quote';
  if (/[\n\r]/.test(value)) return 'newline';
  return undefined;
}

/** The problem with `value` as a value of `node` on a `set`, if any. */
function valueProblem(node: SchemaNode, value: string, at: number, options: WalkOptions): PathProblem | undefined {
  if (options.op !== 'set') return undefined;
  const character = forbiddenCharacter(value);
  if (character) return { kind: 'forbidden-character', at, character, node };
  if (!node.accepts(value, options.routerState)) return { kind: 'invalid-value', at, node };
  return undefined;
}

/** Walks `words` (a set/delete path including the value) through the schema rooted at `root`. */
export function walkPath(root: SchemaNode, words: readonly string[], options: WalkOptions): WalkResult {
  const fail = (problem: PathProblem): WalkResult => ({ ok: false, problem });
  if (words.length === 0) return fail({ kind: 'empty-path' });
  let node = root;
  let atTagValue = false;
  const nodePath: string[] = [];
  const kinds: ResolvedPath['kinds'] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.length === 0) return fail({ kind: 'empty-word', at: i });
    if (node.kind === 'leaf') {
      if (node.valueless) return fail({ kind: 'value-on-valueless-leaf', at: i });
      if (i !== words.length - 1) return fail({ kind: 'words-after-value', at: i });
      const problem = valueProblem(node, word, i, options);
      if (problem) return fail(problem);
      return { ok: true, path: { nodePath, schema: node, value: word, kinds } };
    }
    if (node.kind === 'tag' && !atTagValue) {
      if (options.op === 'set' && /\s/.test(word)) return fail({ kind: 'tag-value-whitespace', at: i });
      const problem = valueProblem(node, word, i, options);
      if (problem) return fail(problem);
      nodePath.push(word);
      kinds.push('tagvalue');
      atTagValue = true;
      continue;
    }
    const child = node.children.get(word);
    if (!child) return fail({ kind: 'unknown-node', at: i });
    node = child;
    atTagValue = false;
    nodePath.push(word);
    kinds.push(child.kind);
  }
  if (options.op === 'set' && ((node.kind === 'leaf' && !node.valueless) || (node.kind === 'tag' && !atTagValue)))
    return fail({ kind: 'requires-value' });
  return { ok: true, path: { nodePath, schema: node, kinds } };
}

/**
 * The schema node a config-tree path (schema words and tag values, no leaf value) names, for reads:
 * no value checks; undefined when the path is not in the schema.
 */
export function lookupSchema(root: SchemaNode, path: readonly string[]): { schema: SchemaNode; atTagValue: boolean } | undefined {
  let node = root;
  let atTagValue = false;
  for (const word of path) {
    if (node.kind === 'leaf') return undefined;
    if (node.kind === 'tag' && !atTagValue) {
      atTagValue = true;
      continue;
    }
    const child = node.children.get(word);
    if (!child) return undefined;
    node = child;
    atTagValue = false;
  }
  return { schema: node, atTagValue };
}
