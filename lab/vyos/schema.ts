/**
 * The configuration schema of an emulated router, built from vyos-paths.json (plus the small
 * vyos-paths-extra.json supplement) for one VyOS version, and the path walk that turns the words of a
 * `set`/`delete` into a config-tree path, checking every tag value and leaf value on the way with the
 * real constraint semantics: regexes full-match and OR-ed with validators, `[[:alnum:]]` translated,
 * the node's constraintErrorMessage (or `Invalid value`) on failure.
 */
import { readFileSync } from 'node:fs';
import { runValidator } from './validators.ts';
import { VyosConfigError, type VyosVersion } from './types.ts';

interface RawDef {
  t: 'node' | 'tag' | 'leaf';
  multi?: boolean;
  valueless?: boolean;
  regex?: string[] | null;
  validators?: string[] | null;
  err?: string | null;
  default?: string;
  only?: '1.4' | '1.5';
  v14?: Partial<Record<'regex' | 'validators' | 'err' | 'fmt', string[] | string | null>>;
}

/** One schema node. A tag node's children are those of each tag value (`<tag>` in the file). */
export class SchemaNode {
  readonly children = new Map<string, SchemaNode>();
  kind: 'node' | 'tag' | 'leaf' = 'node';
  multi = false;
  valueless = false;
  regexes: RegExp[] = [];
  validators: string[] = [];
  err: string | undefined;
  defaultValue: string | undefined;

  constructor(readonly name: string) {}

  /** True when `value` satisfies the node's constraints (OR of regexes and validators). */
  accepts(value: string): boolean {
    if (this.regexes.length === 0 && this.validators.length === 0) return true;
    return this.regexes.some((r) => r.test(value)) || this.validators.some((v) => runValidator(v, value));
  }
}

/** Translates a PCRE constraint to a full-match JavaScript RegExp. */
export function compileConstraint(re: string): RegExp {
  const js = re
    .replace(/\[:alnum:\]/g, 'A-Za-z0-9')
    .replace(/\[:digit:\]/g, '0-9')
    .replace(/\[:alpha:\]/g, 'A-Za-z');
  return new RegExp(`^(?:${js})$`);
}

function readPaths(file: string): Record<string, RawDef> {
  const url = new URL(`./data/${file}`, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as { paths: Record<string, RawDef> };
  return parsed.paths;
}

const cache = new Map<VyosVersion, SchemaNode>();

/** The schema root for a version (built once per version and shared; treat as read-only). */
export function schemaFor(version: VyosVersion): SchemaNode {
  const hit = cache.get(version);
  if (hit) return hit;
  const root = new SchemaNode('');
  const all = { ...readPaths('vyos-paths.json'), ...readPaths('vyos-paths-extra.json') };
  for (const [key, raw] of Object.entries(all)) {
    if (raw.only && raw.only !== version) continue;
    const def: RawDef = { ...raw };
    if (version === '1.4' && raw.v14) {
      for (const [field, value] of Object.entries(raw.v14)) {
        (def as unknown as Record<string, unknown>)[field] = value ?? undefined;
      }
    }
    let node = root;
    for (const word of key.split(' ')) {
      if (word === '<tag>') continue;
      let child = node.children.get(word);
      if (!child) {
        child = new SchemaNode(word);
        node.children.set(word, child);
      }
      node = child;
    }
    node.kind = def.t;
    node.multi = def.multi === true;
    node.valueless = def.valueless === true;
    node.regexes = (def.regex ?? []).map(compileConstraint);
    node.validators = def.validators ?? [];
    node.err = def.err ?? undefined;
    node.defaultValue = def.default;
  }
  cache.set(version, root);
  return root;
}

/** Where a `set`/`delete` lands in the config tree. */
export interface ResolvedPath {
  /** Config-tree path: schema words plus tag values; for a leaf, the leaf itself (not its value). */
  nodePath: string[];
  schema: SchemaNode;
  /** The leaf value when the words carried one. */
  value?: string;
  /** Schema node of each element of nodePath (tag values map to their tag node). */
  kinds: ('node' | 'tag' | 'tagvalue' | 'leaf')[];
}

function checkCharacters(value: string, op: string): void {
  if (value.includes('"'))
    throw new VyosConfigError(`Cannot use the double quote (") character in a value string\n${op} failed\n`);
  if (value.includes("'"))
    throw new VyosConfigError(`Cannot use the single quote (') character in a value string\n${op} failed\n`);
  if (/[\n\r]/.test(value)) throw new VyosConfigError(`Cannot use newline character in a value string\n${op} failed\n`);
}

function invalidPath(words: string[], op: string): VyosConfigError {
  return new VyosConfigError(`Configuration path: [${words.join(' ')}] is not valid\n${op} failed\n`);
}

function invalidValue(node: SchemaNode, op: string): VyosConfigError {
  return new VyosConfigError(`${node.err ?? 'Invalid value'}\nValue validation failed\n${op} failed\n`);
}

/**
 * Walks `words` (a set/delete path including the value) through the schema. `op` is `Set` or
 * `Delete` (the vyatta word in the error text). Throws VyosConfigError with the router's text.
 */
export function resolvePath(root: SchemaNode, words: string[], op: 'Set' | 'Delete'): ResolvedPath {
  if (words.length === 0) throw invalidPath(words, op);
  let node = root;
  let atTagValue = false;
  const nodePath: string[] = [];
  const kinds: ResolvedPath['kinds'] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.length === 0) throw invalidPath(words, op);
    if (node.kind === 'leaf') {
      if (node.valueless || i !== words.length - 1) throw invalidPath(words, op);
      if (op === 'Set') {
        checkCharacters(word, op);
        if (!node.accepts(word)) throw invalidValue(node, op);
      }
      return { nodePath, schema: node, value: word, kinds };
    }
    if (node.kind === 'tag' && !atTagValue) {
      if (op === 'Set') {
        if (/\s/.test(word)) throw new VyosConfigError(`Tag node value name must not contain whitespace\n${op} failed\n`);
        checkCharacters(word, op);
        if (!node.accepts(word)) throw invalidValue(node, op);
      }
      nodePath.push(word);
      kinds.push('tagvalue');
      atTagValue = true;
      continue;
    }
    const child = node.children.get(word);
    if (!child) throw invalidPath(words, op);
    node = child;
    atTagValue = false;
    nodePath.push(word);
    kinds.push(child.kind);
  }
  if (op === 'Set') {
    if ((node.kind === 'leaf' && !node.valueless) || (node.kind === 'tag' && !atTagValue))
      throw new VyosConfigError(`Configuration path: [${words.join(' ')}] requires a value\n${op} failed\n`);
  }
  return { nodePath, schema: node, kinds };
}

/** Like resolvePath for reads: no value checks; returns undefined for an invalid path. */
export function lookupSchema(root: SchemaNode, path: string[]): { schema: SchemaNode; atTagValue: boolean } | undefined {
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
