/**
 * Validates the ops the actuator generates against the emulator's copy of vyos-paths.json
 * (lab/vyos/data, extracted from vyos-1x interface-definitions) before anything is sent to a router:
 * every word must name a node of the version's schema, tag values and leaf values must satisfy the
 * node's constraints (regexes full-match, OR-ed with validators), valueless leaves take no value.
 *
 * The lab's own validator is not exported (and actuator/ may not import lab/), so this is a small
 * read-only walk over the same data file. Validators it cannot run locally (`file-path` lookups
 * against /sys/class/net…) never decide alone: a node whose only constraint is such a validator
 * accepts, as documented in docs/notes/actuator.md.
 */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../../core/errors.ts';
import type { ConfigOp, VyosVersion } from './types.ts';

interface RawDef {
  t: 'node' | 'tag' | 'leaf';
  multi?: boolean;
  valueless?: boolean;
  regex?: string[] | null;
  validators?: string[] | null;
  only?: VyosVersion;
  v14?: Partial<Record<'regex' | 'validators', string[] | null>>;
}

interface Node {
  kind: 'node' | 'tag' | 'leaf';
  multi: boolean;
  valueless: boolean;
  regexes: RegExp[];
  validators: string[];
  children: Map<string, Node>;
}

const pathsFile = new URL('../../lab/vyos/data/vyos-paths.json', import.meta.url);

function compile(re: string): RegExp {
  const js = re
    .replace(/\[:alnum:\]/g, 'A-Za-z0-9')
    .replace(/\[:digit:\]/g, '0-9')
    .replace(/\[:alpha:\]/g, 'A-Za-z');
  return new RegExp(`^(?:${js})$`);
}

const roots = new Map<VyosVersion, Node>();
let raw: Record<string, RawDef> | undefined;

function newNode(): Node {
  return { kind: 'node', multi: false, valueless: false, regexes: [], validators: [], children: new Map() };
}

function rootFor(version: VyosVersion): Node {
  const hit = roots.get(version);
  if (hit) return hit;
  raw ??= (JSON.parse(readFileSync(pathsFile, 'utf8')) as { paths: Record<string, RawDef> }).paths;
  const root = newNode();
  for (const [key, def0] of Object.entries(raw)) {
    if (def0.only && def0.only !== version) continue;
    const def: RawDef = version === '1.4' && def0.v14 ? { ...def0, ...(def0.v14 as Partial<RawDef>) } : def0;
    let node = root;
    for (const word of key.split(' ')) {
      if (word === '<tag>') continue;
      let child = node.children.get(word);
      if (!child) node.children.set(word, (child = newNode()));
      node = child;
    }
    node.kind = def.t;
    node.multi = def.multi === true;
    node.valueless = def.valueless === true;
    node.regexes = (def.regex ?? []).map(compile);
    node.validators = def.validators ?? [];
  }
  roots.set(version, root);
  return root;
}

const ipv4Re = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isV4 = (v: string) => ipv4Re.test(v);
const isV6 = (v: string) => v.includes(':') && ipaddr.IPv6.isValid(v);
function isPrefix(v: string, six: boolean): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const [, addr, len] = m;
  if (six ? !isV6(addr!) : !isV4(addr!)) return false;
  if (Number(len) > (six ? 128 : 32)) return false;
  const net = six
    ? ipaddr.IPv6.networkAddressFromCIDR(v).toNormalizedString() === ipaddr.IPv6.parse(addr!).toNormalizedString()
    : ipaddr.IPv4.networkAddressFromCIDR(v).toString() === addr;
  return net;
}
function numeric(v: string, args: string[]): boolean {
  const check = (s: string): boolean => {
    if (!/^-?\d+(\.\d+)?$/.test(s)) return false;
    const n = Number(s);
    if (args.includes('--positive') && n <= 0) return false;
    if (args.includes('--non-negative') && n < 0) return false;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--range') {
        const [lo, hi] = (args[i + 1] ?? '').split('-').map(Number);
        if (!(n >= lo! && n <= hi!)) return false;
      }
    }
    return true;
  };
  if (args.includes('--allow-range') && v.includes('-')) {
    const [a, b] = v.split('-');
    return check(a!) && check(b!) && Number(a) <= Number(b);
  }
  return check(v);
}

/** The validators this module can run; `undefined` means "cannot check here". */
function runValidator(spec: string, v: string): boolean | undefined {
  const [name, ...args] = spec.split(' ');
  switch (name) {
    case 'numeric':
      return numeric(v, args);
    case 'ipv4-address':
      return isV4(v);
    case 'ipv6-address':
      return isV6(v);
    case 'ip-address':
      return isV4(v) || isV6(v);
    case 'ipv4-prefix':
      return isPrefix(v, false);
    case 'ipv6-prefix':
      return isPrefix(v, true);
    case 'ip-prefix':
      return isPrefix(v, false) || isPrefix(v, true);
    case 'ipv4-range': {
      const [a, b] = v.split('-');
      return b !== undefined && isV4(a!) && isV4(b);
    }
    case 'ipv4-address-exclude':
      return v.startsWith('!') && isV4(v.slice(1));
    case 'ipv4-prefix-exclude':
      return v.startsWith('!') && isPrefix(v.slice(1), false);
    case 'ipv4-range-exclude':
      return false;
    default:
      return undefined;
  }
}

function accepts(node: Node, value: string): boolean {
  if (node.regexes.length === 0 && node.validators.length === 0) return !/["'\n\r]/.test(value);
  if (/["'\n\r]/.test(value)) return false;
  if (node.regexes.some((r) => r.test(value))) return true;
  let unknown = false;
  for (const spec of node.validators) {
    const ok = runValidator(spec, value);
    if (ok === true) return true;
    if (ok === undefined) unknown = true;
  }
  // Only a validator we cannot run could still accept it: the router decides (see file comment).
  return unknown && node.regexes.length === 0;
}

function opText(op: ConfigOp): string {
  return `${op.op} ${[...op.path, ...(op.value !== undefined ? [op.value] : [])].join(' ')}`;
}

/** Throws ValidationError naming the op when a word or value is not valid for the version. */
export function validateOp(version: VyosVersion, op: ConfigOp): void {
  const words = op.value !== undefined ? [...op.path, op.value] : op.path;
  const fail = (why: string): never => {
    throw new ValidationError(`VyOS ${version}: "${opText(op)}" is not valid: ${why}`);
  };
  if (words.length === 0) fail('empty path');
  let node = rootFor(version);
  let atTagValue = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.length === 0) fail(`empty word at position ${i + 1}`);
    if (node.kind === 'leaf') {
      if (node.valueless) fail(`"${words[i - 1]}" takes no value`);
      if (i !== words.length - 1) fail(`words after the value of "${words[i - 1]}"`);
      if (op.op === 'set' && !accepts(node, word)) fail(`"${word}" is not a valid value of "${words[i - 1]}"`);
      return;
    }
    if (node.kind === 'tag' && !atTagValue) {
      if (op.op === 'set' && (/\s/.test(word) || !accepts(node, word)))
        fail(`"${word}" is not a valid name under "${words[i - 1]}"`);
      atTagValue = true;
      continue;
    }
    const child = node.children.get(word);
    if (!child) fail(`no node "${word}" under "${words.slice(0, i).join(' ') || '(root)'}"`);
    node = child!;
    atTagValue = false;
  }
  if (op.op === 'set' && ((node.kind === 'leaf' && !node.valueless) || (node.kind === 'tag' && !atTagValue)))
    fail('requires a value');
}

/** Validates every op; the first invalid one throws (nothing is sent). */
export function validateOps(version: VyosVersion, ops: readonly ConfigOp[]): void {
  for (const op of ops) validateOp(version, op);
}

/** True when `path` names a node of the schema (a config subtree the actuator may snapshot). */
export function isSchemaPath(version: VyosVersion, path: readonly string[]): boolean {
  try {
    validateOp(version, { op: 'delete', path: [...path] });
    return true;
  } catch {
    return false;
  }
}
