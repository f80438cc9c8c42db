/**
 * The VyOS configuration schema of one version, built from the data files next to this module
 * (`data/vyos-paths.json`, extracted from vyos-1x interface-definitions, plus the small
 * `data/vyos-paths-extra.json` supplement; see data/SOURCES.md). One tree serves the actuator (which
 * validates the ops it generates) and the lab's emulator (which enforces the same tree on `set`):
 * `only` and the `v14` overrides are honoured, regexes are compiled to full-match JavaScript.
 */
import { readFileSync } from 'node:fs';
import type { VyosVersion } from '../types.ts';
import { isKnownValidator, runValidator, type RouterStateChecks } from './validators.ts';

/** One entry of `paths` in the data files (notation in vyos-paths.json `_meta.notation`). */
export interface RawDef {
  t: 'node' | 'tag' | 'leaf';
  multi?: boolean;
  valueless?: boolean;
  regex?: string[] | null;
  validators?: string[] | null;
  err?: string | null;
  default?: string;
  only?: VyosVersion;
  v14?: Partial<Record<'regex' | 'validators' | 'err' | 'fmt', string[] | string | null>>;
}

/** One schema node. A tag node's children are those of each tag value (`<tag>` in the data). */
export class SchemaNode {
  readonly children = new Map<string, SchemaNode>();
  kind: 'node' | 'tag' | 'leaf' = 'node';
  multi = false;
  valueless = false;
  regexes: RegExp[] = [];
  validators: string[] = [];
  /** The node's `constraintErrorMessage` (version-specific through `v14`); the router's text on a refused value. */
  constraintErrorMessage: string | undefined;
  defaultValue: string | undefined;

  constructor(readonly name: string) {}

  /**
   * True when `value` satisfies the node's constraints: any regex or any validator accepting it
   * (VyOS ORs the entries of one constraint). A validator deferred to the router (see
   * RouterStateChecks) accepts only where no regex constrains the node: with a regex beside it
   * (`file-path` + the interface-name pattern) the regex decides, as it does on a router.
   */
  accepts(value: string, routerState: RouterStateChecks): boolean {
    if (this.regexes.length === 0 && this.validators.length === 0) return true;
    if (this.regexes.some((r) => r.test(value))) return true;
    let deferred = false;
    for (const spec of this.validators) {
      const verdict = runValidator(spec, value, routerState);
      if (verdict === true) return true;
      if (verdict === 'deferred') deferred = true;
    }
    return deferred && this.regexes.length === 0;
  }
}

/** Translates a PCRE constraint to a full-match JavaScript RegExp. */
export function compileConstraint(re: string): RegExp {
  const js = re
    .replace(/\[:alnum:\]/g, 'A-Za-z0-9')
    .replace(/\[:digit:\]/g, '0-9')
    .replace(/\[:alpha:\]/g, 'A-Za-z')
    // `[[:ascii:]]` (openvpn authentication username/password) is every 7-bit character.
    .replace(/\[:ascii:\]/g, '\\x00-\\x7F');
  return new RegExp(`^(?:${js})$`);
}

/** The data files, in the order they merge (a later file's entry replaces an earlier one's). */
const schemaDataFiles = ['vyos-paths.json', 'vyos-paths-extra.json'] as const;

function readPaths(file: string): Record<string, RawDef> {
  const url = new URL(`./data/${file}`, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, 'utf8')) as { paths?: Record<string, RawDef> };
  if (!parsed.paths) throw new Error(`${url.pathname}: no "paths" object`);
  return parsed.paths;
}

/** The definition of one entry as `version` sees it (its `v14` overrides applied on 1.4). */
function definitionFor(raw: RawDef, version: VyosVersion): RawDef {
  if (version !== '1.4' || !raw.v14) return raw;
  const def: RawDef = { ...raw };
  for (const [field, value] of Object.entries(raw.v14)) {
    (def as unknown as Record<string, unknown>)[field] = value ?? undefined;
  }
  return def;
}

/** Builds the schema tree of `version` from `paths` entries; throws on a validator nobody implemented. */
export function buildSchema(version: VyosVersion, paths: Readonly<Record<string, RawDef>>): SchemaNode {
  const root = new SchemaNode('');
  for (const [key, raw] of Object.entries(paths)) {
    if (raw.only && raw.only !== version) continue;
    const def = definitionFor(raw, version);
    const unknown = (def.validators ?? []).filter((spec) => !isKnownValidator(spec));
    // A validator nobody implemented would silently accept or refuse: refuse the data instead.
    if (unknown.length > 0) throw new Error(`VyOS ${version} schema "${key}": unknown validator(s) ${unknown.join(', ')}`);
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
    node.constraintErrorMessage = def.err ?? undefined;
    node.defaultValue = def.default;
  }
  return root;
}

const cache = new Map<VyosVersion, SchemaNode>();

/** The schema root for a version (built once per version and shared; treat as read-only). */
export function schemaFor(version: VyosVersion): SchemaNode {
  let root = cache.get(version);
  if (!root) {
    const paths: Record<string, RawDef> = {};
    for (const file of schemaDataFiles) Object.assign(paths, readPaths(file));
    root = buildSchema(version, paths);
    cache.set(version, root);
  }
  return root;
}
