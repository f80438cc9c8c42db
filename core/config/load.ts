import { readFileSync, existsSync, statSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, visit, LineCounter, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { didYouMean, knownKeysAt } from './did-you-mean.ts';
import { applyRenames, isRecord, renamedSections } from './renamed-sections.ts';
import { rootConfigSchema, type RootConfig } from './schema.ts';
import { envOverrideName, findEmbeddedCredentials } from './url-credentials.ts';

type PathKey = string | number;

/** Where the project keeps its example (the embedded default topology). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const exampleConfigPath = join(projectRoot, 'pathpilot.example.yaml');

/**
 * Largest configuration file read. The example is ~15 KB; a 50 MB file took 2 GB of heap to parse
 * (YAML nodes with positions), so anything this large is a mistake, refused before it is read.
 */
export const maxConfigBytes = 1024 * 1024;

/**
 * A parsed configuration file that can validate any section and point each problem at its file line.
 * Components call `section('ingest', schema)` with their own schema.
 */
export class ConfigSource {
  /** Deprecations met while loading (`file:line: key: message`), for `config --check` to print. */
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    readonly data: Record<string, unknown>,
    private readonly doc?: Document,
    private readonly lines?: LineCounter,
  ) {}

  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PathKey[]): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    // A renamed section's keys may still sit under its old name in the file.
    const old = renamedSections.find((r) => r.to === path[0]);
    const candidates = old ? [path, [old.from, ...path.slice(1)]] : [path];
    let best: { depth: number; line: number } | undefined;
    for (const candidate of candidates) {
      for (let n = candidate.length; n >= (best ? best.depth + 1 : 0); n--) {
        const node = this.doc.getIn(candidate.slice(0, n), true) as Node | undefined;
        if (node && typeof node === 'object' && 'range' in node && node.range) {
          best = { depth: n, line: this.lines.linePos(node.range[0]).line };
          break;
        }
      }
    }
    return best?.line;
  }

  /** 1-based line of the key `key` itself in the mapping at `parent` (where an unknown key was typed). */
  keyLine(parent: readonly PathKey[], key: string): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    const old = renamedSections.find((r) => r.to === parent[0]);
    for (const path of old ? [parent, [old.from, ...parent.slice(1)]] : [parent]) {
      const map = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
      if (!isMap(map)) continue;
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return this.lines.linePos(range[0]).line;
    }
    return undefined;
  }

  /** `file:line: key.path: message` — the one format of every configuration problem. */
  private issueAt(path: readonly PathKey[], message: string, line: number | undefined): string {
    return `${this.file}${line ? `:${line}` : ''}: ${formatKey(path) || '(root)'}: ${message}`;
  }

  /**
   * Formats zod issues as `file:line: key.path: message`. Unknown keys get one issue each, at the
   * key's own line, with a did-you-mean from `schema` (the schema that was applied at `prefix`).
   */
  describe(issues: z.core.$ZodIssue[], prefix: readonly PathKey[] = [], schema?: z.ZodType): string[] {
    return issues.flatMap((issue) => {
      const path = [...prefix, ...(issue.path as PathKey[])];
      if (issue.code !== 'unrecognized_keys') return [this.issueAt(path, issue.message, this.lineOf(path))];
      const known = schema ? knownKeysAt(schema, issue.path as PathKey[]) : [];
      return issue.keys.map((key) => {
        const suggestion = didYouMean(key, known);
        const line = this.keyLine(path, key);
        // No line: the key came from a PATHPILOT__… override, so name the variable instead.
        const where = line === undefined ? ` (from ${envOverrideName([...path, key])})` : '';
        return this.issueAt([...path, key], `unknown key${where}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`, line);
      });
    });
  }

  /** Validates one component section (missing means `{}` so defaults apply). */
  section<S extends z.ZodType>(key: string, schema: S): z.output<S> {
    const result = this.check(key, schema);
    if (!result.success) throw new ConfigError(result.issues);
    return result.data;
  }

  /** Like `section`, returning the problems instead of throwing (to report every section at once). */
  check<S extends z.ZodType>(
    key: string,
    schema: S,
  ): { success: true; data: z.output<S> } | { success: false; issues: string[] } {
    const raw = key.split('.').reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), this.data) ?? {};
    const result = schema.safeParse(raw);
    if (result.success) return { success: true, data: result.data };
    return { success: false, issues: this.describe(result.error.issues, key.split('.'), schema) };
  }

  /** Records a renamed section's deprecation and reports keys set under both names. */
  applyRenames(): string[] {
    const { renamed, conflicts } = applyRenames(this.data);
    for (const r of renamed)
      this.warnings.push(
        `${this.issueAt([r.from], `deprecated: rename the section to "${r.to}" (${r.why}); its keys were read as ${r.to}.*`, this.keyLine([], r.from))}`,
      );
    return conflicts.map((c) =>
      this.issueAt(
        [c.rename.to, c.key],
        `set under both "${c.rename.from}" (deprecated) and "${c.rename.to}": keep only ${c.rename.to}.${c.key}`,
        this.keyLine([c.rename.from], c.key),
      ),
    );
  }
}

export interface LoadedConfig {
  root: RootConfig;
  source: ConfigSource;
}

export function formatKey(path: readonly PathKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
}

function tooLarge(file: string, bytes: number): ConfigError {
  return new ConfigError([
    `${file}: the configuration is ${bytes.toLocaleString('en-US')} bytes; the limit is ${maxConfigBytes.toLocaleString('en-US')} (1 MiB) — is this the right file?`,
  ]);
}

/**
 * Parses YAML text; syntax errors name the file and line. Refuses text over `maxConfigBytes` and
 * service URLs that embed credentials (those belong in the environment).
 */
export function parseConfigText(text: string, file: string): ConfigSource {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxConfigBytes) throw tooLarge(file, bytes);
  const lines = new LineCounter();
  // yaml's own `uniqueKeys` check compares every key with every earlier one (30k keys: 30 s), so
  // duplicates are found here instead, with a Set per mapping.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`));
  }
  const duplicates = duplicateKeys(doc, lines);
  if (duplicates.length > 0) {
    throw new ConfigError(duplicates.map((d) => `${file}:${d.line}: duplicate key "${d.key}" (first set at line ${d.first})`));
  }
  const data = doc.toJS() as unknown;
  if (!isRecord(data)) throw new ConfigError([`${file}:1: the file must hold a YAML mapping`]);
  if (!isMap(doc.contents) && !isSeq(doc.contents) && !isScalar(doc.contents)) {
    throw new ConfigError([`${file}:1: empty configuration`]);
  }
  const source = new ConfigSource(file, data, doc, lines);
  const secrets = findEmbeddedCredentials(data);
  if (secrets.length > 0) {
    throw new ConfigError(
      secrets.map(
        (s) =>
          `${file}${lineSuffix(source.lineOf(s.path))}: ${formatKey(s.path)}: the URL embeds a password; ` +
          `keep credentials out of the file: set the URL in ${s.envVar} instead`,
      ),
    );
  }
  return source;
}

const lineSuffix = (line: number | undefined) => (line ? `:${line}` : '');

/** Keys set twice in one mapping (YAML forbids it; the later value would silently win). */
function duplicateKeys(doc: Document, lines: LineCounter): { key: string; line: number; first: number }[] {
  const found: { key: string; line: number; first: number }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<unknown, number>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : String(pair.key);
        const line = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]).line : 0;
        const first = seen.get(key);
        if (first !== undefined) found.push({ key: String(key), line, first });
        else seen.set(key, line);
      }
    },
  });
  return found;
}

// Shared with the config's other checks and the demo overlay.
export { envOverrideName, isRecord };

/**
 * Environment overrides, applied after the file:
 * - `KAFKA_BROKERS`, `CLICKHOUSE_URL`, `REDIS_URL` switch the adapters to the real services;
 * - `PATHPILOT__<section>__<key>=value` sets any key (value parsed as YAML, so numbers and lists work).
 */
export function applyEnvOverrides(data: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): void {
  const set = (path: string[], value: unknown) => {
    let node: Record<string, unknown> = data;
    for (const k of path.slice(0, -1)) {
      if (!isRecord(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  };
  if (env.KAFKA_BROKERS) {
    set(['services', 'bus', 'kind'], 'kafka');
    set(
      ['services', 'bus', 'brokers'],
      env.KAFKA_BROKERS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }
  if (env.CLICKHOUSE_URL) {
    set(['services', 'store', 'kind'], 'server');
    set(['services', 'store', 'url'], env.CLICKHOUSE_URL);
  }
  if (env.REDIS_URL) {
    set(['services', 'queue', 'kind'], 'bullmq');
    set(['services', 'queue', 'redis_url'], env.REDIS_URL);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PATHPILOT__') || value === undefined) continue;
    const path = name.slice('PATHPILOT__'.length).toLowerCase().split('__').filter(Boolean);
    if (path.length === 0) continue;
    set(path, parseDocument(value).toJS());
  }
}

/**
 * Validates the shared part of a parsed configuration (after renamed sections are moved).
 * Deprecations go to `warn` (default: the process warning channel, once per message).
 */
export function validateRoot(source: ConfigSource, warn: (warnings: readonly string[]) => void = warnOnce): RootConfig {
  const conflicts = source.applyRenames();
  const result = rootConfigSchema.safeParse(source.data);
  const issues = [...conflicts, ...(result.success ? [] : source.describe(result.error.issues, [], rootConfigSchema))];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  warn(source.warnings);
  return result.data;
}

const warned = new Set<string>();

/**
 * Deprecation warnings go to the process's warning channel once per message: a process loads its
 * configuration several times (roles, CLI, demo), and one notice is enough.
 */
function warnOnce(warnings: readonly string[]): void {
  for (const w of warnings) {
    if (warned.has(w)) continue;
    warned.add(w);
    process.emitWarning(w, { type: 'DeprecationWarning', code: 'PATHPILOT_CONFIG_DEPRECATED' });
  }
}

/**
 * Loads `file` (default: `./pathpilot.yaml` when present, else the bundled example), applies
 * environment overrides and validates. Throws ConfigError naming each bad key and its line.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const source = readConfigSource(file, env);
  return { root: validateRoot(source), source };
}

/**
 * Reads and parses `file` (same default as loadConfig) and applies environment overrides, without
 * validating: for callers that validate the root and component sections together.
 */
export function readConfigSource(file?: string, env: NodeJS.ProcessEnv = process.env): ConfigSource {
  const path = resolve(file ?? (existsSync('pathpilot.yaml') ? 'pathpilot.yaml' : exampleConfigPath));
  let text: string;
  try {
    // Checked before reading: a huge file must not be loaded into memory to find out it is too big.
    const { size } = statSync(path);
    if (size > maxConfigBytes) throw tooLarge(path, size);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${path}: cannot read the configuration file (${(err as Error).message})`]);
  }
  const source = parseConfigText(text, path);
  applyEnvOverrides(source.data, env);
  return source;
}

/** Loads a configuration from a string (tests, the lab's generated topologies). */
export function loadConfigText(text: string, file = '<inline>', env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const source = parseConfigText(text, file);
  applyEnvOverrides(source.data, env);
  return { root: validateRoot(source), source };
}
