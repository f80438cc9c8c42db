import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, LineCounter, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { rootConfigSchema, type RootConfig } from './schema.ts';

type PathKey = string | number;

/** Where the project keeps its example (the embedded default topology). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const exampleConfigPath = join(projectRoot, 'pathpilot.example.yaml');

/**
 * A parsed configuration file that can validate any section and point each problem at its file line.
 * Components call `section('ingest', schema)` with their own schema.
 */
export class ConfigSource {
  constructor(
    readonly file: string,
    readonly data: Record<string, unknown>,
    private readonly doc?: Document,
    private readonly lines?: LineCounter,
  ) {}

  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PathKey[]): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        return this.lines.linePos(node.range[0]).line;
      }
    }
    return undefined;
  }

  /** Formats zod issues as `file:line: key.path: message`. */
  describe(issues: z.core.$ZodIssue[], prefix: readonly PathKey[] = []): string[] {
    return issues.map((issue) => {
      const path = [...prefix, ...(issue.path as PathKey[])];
      const key = formatKey(path) || '(root)';
      const line = this.lineOf(path);
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${this.file}${line ? `:${line}` : ''}: ${key}: ${message}`;
    });
  }

  /** Validates one component section (missing means `{}` so defaults apply). */
  section<S extends z.ZodType>(key: string, schema: S): z.output<S> {
    const raw = key.split('.').reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), this.data) ?? {};
    const result = schema.safeParse(raw);
    if (!result.success) throw new ConfigError(this.describe(result.error.issues, key.split('.')));
    return result.data;
  }
}

export interface LoadedConfig {
  root: RootConfig;
  source: ConfigSource;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function formatKey(path: readonly PathKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
}

/** Parses YAML text; syntax errors name the file and line. */
export function parseConfigText(text: string, file: string): ConfigSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`));
  }
  const data = doc.toJS() as unknown;
  if (!isRecord(data)) throw new ConfigError([`${file}:1: the file must hold a YAML mapping`]);
  if (!isMap(doc.contents) && !isSeq(doc.contents) && !isScalar(doc.contents)) {
    throw new ConfigError([`${file}:1: empty configuration`]);
  }
  return new ConfigSource(file, data, doc, lines);
}

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

/** Validates the shared part of a parsed configuration. */
export function validateRoot(source: ConfigSource): RootConfig {
  const result = rootConfigSchema.safeParse(source.data);
  if (!result.success) throw new ConfigError(source.describe(result.error.issues));
  return result.data;
}

/**
 * Loads `file` (default: `./pathpilot.yaml` when present, else the bundled example), applies
 * environment overrides and validates. Throws ConfigError naming each bad key and its line.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const path = resolve(file ?? (existsSync('pathpilot.yaml') ? 'pathpilot.yaml' : exampleConfigPath));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the configuration file (${(err as Error).message})`]);
  }
  const source = parseConfigText(text, path);
  applyEnvOverrides(source.data, env);
  return { root: validateRoot(source), source };
}

/** Loads a configuration from a string (tests, the lab's generated topologies). */
export function loadConfigText(text: string, file = '<inline>', env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const source = parseConfigText(text, file);
  applyEnvOverrides(source.data, env);
  return { root: validateRoot(source), source };
}
