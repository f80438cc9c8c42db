import { Readable } from 'node:stream';
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import type { Store, StoreCapabilities, StoreVersion } from './types.ts';
import type { Sql } from './sql.ts';
import { StoreError, toStoreError } from './errors.ts';
import { capabilitiesFor, parseVersion, pinnedSettings } from './version.ts';
import { assertTableName, rawBodyPieces, type RawBody, type RawFormat, type RawInsertOptions, type StoreDeps } from './common.ts';

export interface ServerStoreOptions {
  /** `http://[user:password@]host:8123`; credentials may also come from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD. */
  url: string;
  database: string;
  /** Per-request timeout (default 60 s). */
  requestTimeoutMs?: number;
  /** Keep-alive sockets to the server (default 16). */
  maxOpenConnections?: number;
  /**
   * Settings sent with every request besides the pinned ones, e.g. a ClickHouse cluster's
   * (analytics/schema/cluster.ts `clusterStoreSettings`). None by default.
   */
  settings?: Readonly<Record<string, string | number>>;
}

/**
 * The store on a ClickHouse server over HTTP (@clickhouse/client). It detects the server version at
 * start, pins the settings that differ between 18.16 and modern servers on every request, never
 * uses query parameters (18.16 lacks them: values come through the `sql` template), and turns the
 * client's errors (a plain Error on 18.16) into StoreError with the ClickHouse code.
 */
export class ServerStore implements Store {
  readonly kind = 'server' as const;
  readonly database: string;
  readonly rawFormats: readonly RawFormat[] = ['JSONEachRow', 'TabSeparated', 'RowBinary', 'Native'];
  private client: ClickHouseClient | undefined;
  private detected: StoreVersion | undefined;
  private caps: StoreCapabilities | undefined;
  private readonly url: URL;
  private readonly username: string;
  private readonly password: string;

  constructor(
    private readonly options: ServerStoreOptions,
    private readonly deps: StoreDeps = {},
  ) {
    assertTableName(options.database, 'database');
    this.database = options.database;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new StoreError(`invalid ClickHouse URL ${JSON.stringify(options.url)}`, { cause: err });
    }
    this.username = decodeURIComponent(url.username) || process.env.CLICKHOUSE_USER || 'default';
    this.password = decodeURIComponent(url.password) || process.env.CLICKHOUSE_PASSWORD || '';
    url.username = '';
    url.password = '';
    url.pathname = '/';
    this.url = url;
  }

  private makeClient(database: string | undefined, settings: Record<string, string | number>): ClickHouseClient {
    return createClient({
      url: this.url.toString(),
      username: this.username,
      password: this.password,
      database,
      request_timeout: this.options.requestTimeoutMs ?? 60_000,
      max_open_connections: this.options.maxOpenConnections ?? 16,
      // The client logs every failed request at ERROR; failures surface as StoreError instead.
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: settings,
      keep_alive: { enabled: true },
    });
  }

  async start(): Promise<void> {
    if (this.client) return;
    const boot = this.makeClient(undefined, {});
    try {
      const rows = await (await boot.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
      this.detected = parseVersion(rows[0]?.v ?? '');
      this.caps = capabilitiesFor(this.detected);
      await boot.command({ query: `CREATE DATABASE IF NOT EXISTS \`${this.database}\`` });
    } catch (err) {
      throw toStoreError(err, `unable to start the ClickHouse store at ${this.url.host}`);
    } finally {
      await boot.close();
    }
    this.client = this.makeClient(this.database, { ...pinnedSettings(this.detected), ...this.options.settings });
    this.deps.log?.info({ url: this.url.host, version: this.detected.text, database: this.database }, 'clickhouse store started');
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.close();
  }

  private ready(): ClickHouseClient {
    if (!this.client) throw new StoreError('the ClickHouse store is not started');
    return this.client;
  }

  version(): StoreVersion {
    if (!this.detected) throw new StoreError('the ClickHouse store is not started');
    return this.detected;
  }

  capabilities(): StoreCapabilities {
    if (!this.caps) throw new StoreError('the ClickHouse store is not started');
    return this.caps;
  }

  async exec(statement: Sql): Promise<void> {
    const client = this.ready();
    try {
      await client.command({ query: statement.text });
    } catch (err) {
      throw toStoreError(err, 'clickhouse statement failed', statement.text);
    }
  }

  async query<T = Record<string, unknown>>(statement: Sql): Promise<T[]> {
    const client = this.ready();
    try {
      const rs = await client.query({ query: statement.text, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw toStoreError(err, 'clickhouse query failed', statement.text);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    assertTableName(table, 'table');
    if (rows.length === 0) return;
    const client = this.ready();
    try {
      await client.insert({
        table: `\`${this.database}\`.\`${table}\``,
        values: rows as Record<string, unknown>[],
        format: 'JSONEachRow',
      });
    } catch (err) {
      throw toStoreError(err, `clickhouse insert into ${table} failed`);
    }
  }

  async insertRaw(
    table: string,
    format: RawFormat,
    body: RawBody,
    columns?: readonly string[],
    options: RawInsertOptions = {},
  ): Promise<void> {
    assertTableName(table, 'table');
    for (const c of columns ?? []) assertTableName(c, 'column');
    const client = this.ready();
    const cols = columns && columns.length > 0 ? ` (${columns.map((c) => `\`${c}\``).join(', ')})` : '';
    try {
      const result = await client.exec({
        query: `INSERT INTO \`${this.database}\`.\`${table}\`${cols} FORMAT ${format}`,
        ...(options.queryId === undefined ? {} : { query_id: options.queryId }),
        // The body's block goes to the table as it is, not first copied into a block of at least
        // min_insert_block_size_rows (1,048,576) rows that a raw INSERT of fewer never fills: the
        // copy was 5–7 % of the server's CPU per sink INSERT, and its fresh memory more in page
        // faults. A body of at most max_insert_block_size rows stays one block, one part. Several
        // Native blocks are joined by that copy (below its minimum: one block at the body's end).
        ...(options.severalBlocks
          ? {}
          : { clickhouse_settings: { min_insert_block_size_rows: '0', min_insert_block_size_bytes: '0' } }),
        // Pieces are streamed as they are: a body of several blocks is never joined in memory.
        values: Readable.from(rawBodyPieces(body)),
      });
      // The (empty) response body must be drained so the keep-alive socket returns to the pool.
      for await (const _chunk of result.stream) void _chunk;
    } catch (err) {
      throw toStoreError(err, `clickhouse insert into ${table} failed`);
    }
  }

  async ping(): Promise<boolean> {
    const client = this.client ?? this.makeClient(undefined, {});
    try {
      const r = await client.ping();
      return r.success;
    } catch {
      return false;
    } finally {
      if (client !== this.client) await client.close();
    }
  }
}
