/**
 * The in-memory configuration tree with VyOS semantics: plain nodes, tag nodes (children are tag
 * values), single- and multi-value leaves, valueless leaves. Renders showConfig JSON
 * (vyos1x-config JSONRenderer rules), `set …` commands and config.boot text, and parses the latter.
 */
import type { ConfigJson } from './types.ts';
import type { ResolvedPath } from './schema.ts';
import { splitCommand } from '../../actuator/vyos/words.ts';

export { splitCommand };

export class ConfigNode {
  readonly children = new Map<string, ConfigNode>();
  /** Defined for leaves: the values in insertion order (`[]` for a valueless leaf). */
  values: string[] | undefined;
  /** True for a tag node: its children are tag values. */
  tag = false;
  comment: string | undefined;

  clone(): ConfigNode {
    const n = new ConfigNode();
    n.values = this.values ? [...this.values] : undefined;
    n.tag = this.tag;
    n.comment = this.comment;
    for (const [k, c] of this.children) n.children.set(k, c.clone());
    return n;
  }

  get(path: string[]): ConfigNode | undefined {
    if (path.length === 0) return this;
    let n = this.children.get(path[0]!);
    for (let i = 1; i < path.length && n; i++) n = n.children.get(path[i]!);
    return n;
  }

  isEmpty(): boolean {
    return this.children.size === 0 && this.values === undefined;
  }
}

/** Natural order: numbers numerically, then everything else lexically (VyOS sorts tag values so). */
export function compareWords(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedChildren(n: ConfigNode): [string, ConfigNode][] {
  return [...n.children.entries()].sort((x, y) => compareWords(x[0], y[0]));
}

/** Applies a resolved `set`; returns false when it changed nothing (VyOS: "already exists", success). */
export function applySet(root: ConfigNode, r: ResolvedPath): boolean {
  let n = root;
  let changed = false;
  r.nodePath.forEach((word, i) => {
    let child = n.children.get(word);
    if (!child) {
      child = new ConfigNode();
      if (r.kinds[i] === 'tag') child.tag = true;
      n.children.set(word, child);
      changed = true;
    }
    n = child;
  });
  if (r.schema.kind === 'leaf') {
    if (n.values === undefined) {
      n.values = [];
      changed = true;
    }
    if (r.value !== undefined) {
      if (r.schema.multi) {
        if (!n.values.includes(r.value)) {
          n.values.push(r.value);
          changed = true;
        }
      } else if (n.values.length !== 1 || n.values[0] !== r.value) {
        n.values = [r.value];
        changed = true;
      }
    }
  }
  return changed;
}

/** Applies a resolved `delete`; returns false when the path/value did not exist. */
export function applyDelete(root: ConfigNode, r: ResolvedPath): boolean {
  const chain: ConfigNode[] = [root];
  for (const w of r.nodePath) {
    const next = chain[chain.length - 1]!.children.get(w);
    if (!next) return false;
    chain.push(next);
  }
  const target = chain[chain.length - 1]!;
  if (r.value !== undefined) {
    if (!target.values?.includes(r.value)) return false;
    target.values = target.values.filter((v) => v !== r.value);
    if (target.values.length > 0) return true;
  }
  // Remove the node, then prune ancestors left empty (a tag node without values does not exist).
  for (let i = r.nodePath.length - 1; i >= 0; i--) {
    const parent = chain[i]!;
    parent.children.delete(r.nodePath[i]!);
    if (i === 0 || !parent.isEmpty()) break;
  }
  return true;
}

/** showConfig JSON of a node's children (one value → string, several → list, valueless/empty → {}). */
export function renderJson(n: ConfigNode): ConfigJson {
  const out: ConfigJson = {};
  for (const [k, c] of sortedChildren(n)) {
    if (c.values !== undefined) {
      out[k] = c.values.length === 0 ? {} : c.values.length === 1 ? c.values[0]! : [...c.values];
    } else {
      out[k] = renderJson(c);
    }
  }
  return out;
}

function quote(v: string): string {
  return `'${v}'`;
}

/** `show configuration commands`: one `set` line per leaf value, valueless leaf and empty node. */
export function renderCommands(n: ConfigNode, prefix: string[] = []): string[] {
  const lines: string[] = [];
  const walk = (node: ConfigNode, path: string[]) => {
    if (node.values !== undefined) {
      if (node.values.length === 0) lines.push(`set ${path.join(' ')}`);
      for (const v of node.values) lines.push(`set ${path.join(' ')} ${quote(v)}`);
      return;
    }
    if (node.children.size === 0 && path.length > 0) {
      lines.push(`set ${path.join(' ')}`);
      return;
    }
    for (const [k, c] of sortedChildren(node)) walk(c, [...path, k]);
  };
  walk(n, prefix);
  return lines;
}

function needsQuotes(v: string): boolean {
  return !/^[-\w./:@+,!*%]+$/.test(v);
}

/** config.boot text (`/config-file save`, `configFormat: raw`). */
export function renderBoot(n: ConfigNode, indent = ''): string {
  let s = '';
  for (const [k, c] of sortedChildren(n)) {
    if (c.tag) {
      for (const [tv, tc] of sortedChildren(c)) {
        s += tc.isEmpty()
          ? `${indent}${k} ${tv} {\n${indent}}\n`
          : `${indent}${k} ${tv} {\n${renderBoot(tc, indent + '    ')}${indent}}\n`;
      }
    } else if (c.values !== undefined) {
      if (c.values.length === 0) s += `${indent}${k}\n`;
      for (const v of c.values) s += `${indent}${k} ${needsQuotes(v) ? `"${v}"` : v}\n`;
    } else {
      s +=
        c.children.size === 0
          ? `${indent}${k} {\n${indent}}\n`
          : `${indent}${k} {\n${renderBoot(c, indent + '    ')}${indent}}\n`;
    }
  }
  return s;
}

/**
 * Parses config.boot text (or `set …` lines) into a list of set paths (words incl. values), to be
 * replayed through the schema. Throws Error with a line number on malformed text.
 */
export function parseConfigText(text: string): string[][] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (/^set\s/m.test(trimmed) && !trimmed.includes('{')) {
    return trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('set '))
      .map((l) => splitCommand(l.slice(4)));
  }
  const tokens: { t: string; line: number; quoted: boolean }[] = [];
  const re = /\/\*[\s\S]*?\*\/|"((?:[^"\\]|\\.)*)"|'([^']*)'|([{}])|([^\s{}"']+)|(\n)/g;
  let line = 1;
  for (const m of text.matchAll(re)) {
    if (m[0].startsWith('/*')) {
      line += (m[0].match(/\n/g) ?? []).length;
      continue;
    }
    if (m[5]) {
      line++;
      tokens.push({ t: '\n', line, quoted: false });
    } else if (m[1] !== undefined) tokens.push({ t: m[1], line, quoted: true });
    else if (m[2] !== undefined) tokens.push({ t: m[2], line, quoted: true });
    else tokens.push({ t: m[0], line, quoted: false });
  }
  const paths: string[][] = [];
  const stack: string[][] = [[]];
  let current: string[] = [];
  for (const tok of tokens) {
    if (tok.t === '{' && !tok.quoted) {
      if (current.length === 0) throw new Error(`line ${tok.line}: "{" without a node name`);
      stack.push([...stack[stack.length - 1]!, ...current]);
      current = [];
    } else if (tok.t === '}' && !tok.quoted) {
      if (current.length > 0) paths.push([...stack[stack.length - 1]!, ...current]);
      current = [];
      const closed = stack.pop();
      if (stack.length === 0) throw new Error(`line ${tok.line}: unbalanced "}"`);
      // An empty block still creates the node.
      if (closed && !paths.some((p) => p.length >= closed.length && closed.every((w, i) => p[i] === w))) paths.push(closed);
    } else if (tok.t === '\n') {
      if (current.length > 0) paths.push([...stack[stack.length - 1]!, ...current]);
      current = [];
    } else {
      current.push(tok.t);
    }
  }
  if (current.length > 0) paths.push([...stack[stack.length - 1]!, ...current]);
  if (stack.length !== 1) throw new Error('unbalanced "{" at end of file');
  return paths;
}

/** `dict_to_paths`: the configure-section dict (showConfig shape) as set paths under `prefix`. */
export function dictToPaths(dict: unknown, prefix: string[]): string[][] {
  const out: string[][] = [];
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new Error('section must be an object');
  const entries = Object.entries(dict as Record<string, unknown>);
  if (entries.length === 0 && prefix.length > 0) out.push(prefix);
  for (const [k, v] of entries) {
    if (typeof v === 'string') out.push([...prefix, k, v]);
    else if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item !== 'string') throw new Error(`value of "${k}" must be a string or a list of strings`);
        out.push([...prefix, k, item]);
      }
    } else if (v !== null && typeof v === 'object') out.push(...dictToPaths(v, [...prefix, k]));
    else throw new Error(`value of "${k}" must be a string, a list or an object`);
  }
  return out;
}
