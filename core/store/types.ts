import type { Sql } from './sql.ts';
import type { RawBody, RawFormat, RawInsertOptions } from './common.ts';

/**
 * The analytics store: a ClickHouse server over HTTP (@clickhouse/client) or embedded chDB.
 * Values enter SQL only through the `sql` tagged template (core/store/sql.ts). Both
 * implementations pin the settings that differ between ClickHouse 18.16 and 26.x so they answer
 * alike (checked by test/conformance/store.ts).
 */
export interface StoreVersion {
  major: number;
  minor: number;
  text: string;
}

export interface StoreCapabilities {
  ttl: boolean;
  lowCardinality: boolean;
  dateTime64: boolean;
  windowFunctions: boolean;
  queryParameters: boolean;
}

export interface Store {
  readonly kind: 'server' | 'chdb';
  readonly database: string;
  /** Formats `insertRaw` accepts. */
  readonly rawFormats: readonly RawFormat[];
  start(): Promise<void>;
  stop(): Promise<void>;
  version(): StoreVersion;
  capabilities(): StoreCapabilities;
  /** Runs a statement that returns nothing (DDL, ALTER, INSERT … SELECT). */
  exec(statement: Sql): Promise<void>;
  /** Runs a SELECT and returns rows as objects; 64-bit integers come back as numbers. */
  query<T = Record<string, unknown>>(statement: Sql): Promise<T[]>;
  /** Inserts rows (objects keyed by column) into a table of the store's database. */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  ping(): Promise<boolean>;
  /**
   * Inserts a pre-encoded body (one of `rawFormats`) into a table of the store's database: the
   * sink's fast path, skipping per-row objects. Optional so fakes need not implement it.
   */
  insertRaw?(
    table: string,
    format: RawFormat,
    body: RawBody,
    columns?: readonly string[],
    options?: RawInsertOptions,
  ): Promise<void>;
}
