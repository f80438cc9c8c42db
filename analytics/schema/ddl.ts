import { createHash } from 'node:crypto';
import type { StoreCapabilities } from '../../core/store/types.ts';
import { raw, type Sql } from '../../core/store/sql.ts';
import type { RetentionConfig } from '../config.ts';
import {
  retentionDays,
  type ColumnDef,
  type LogicalType,
  type MaterializedViewDef,
  type PlainViewDef,
  type TableDef,
} from './tables.ts';

/**
 * Renders schema definitions for one target. 18.16 gets the common subset (String for
 * low-cardinality columns, no TTL: retention.ts drops partitions instead); servers from 19.3/19.6
 * and chDB get LowCardinality and TTL.
 */
export function renderType(type: LogicalType, caps: StoreCapabilities): string {
  if (typeof type === 'object') return type.aggregate;
  switch (type) {
    case 'DateTime':
      return "DateTime('UTC')";
    case 'LowString':
      return caps.lowCardinality ? 'LowCardinality(String)' : 'String';
    default:
      return type;
  }
}

/** Whitespace- and quote-insensitive type comparison (servers print types slightly differently). */
export function normalizeType(type: string): string {
  return type.replace(/\s+/g, '').replace(/\\'/g, "'");
}

export function columnSql(c: ColumnDef, caps: StoreCapabilities): string {
  return `\`${c.name}\` ${renderType(c.type, caps)}`;
}

const q = (db: string, name: string) => `\`${db}\`.\`${name}\``;

export function partitionExpr(t: TableDef): string {
  return t.partition === 'day' ? `toYYYYMMDD(${t.timeColumn})` : `toYYYYMM(${t.timeColumn})`;
}

export function ttlExpr(t: TableDef, caps: StoreCapabilities, retention: RetentionConfig): string | undefined {
  const days = retentionDays(t.retention, retention);
  if (!caps.ttl || days === undefined) return undefined;
  return `${t.timeColumn} + toIntervalDay(${days})`;
}

export function createTableSql(db: string, t: TableDef, caps: StoreCapabilities, retention: RetentionConfig): Sql {
  const cols = t.columns.map((c) => columnSql(c, caps)).join(', ');
  const engine = `${t.engine}(${t.version ?? ''})`;
  const ttl = ttlExpr(t, caps, retention);
  return raw(
    `CREATE TABLE IF NOT EXISTS ${q(db, t.name)} (${cols}) ENGINE = ${engine} PARTITION BY ${partitionExpr(t)} ` +
      `ORDER BY (${t.orderBy.join(', ')})${ttl ? ` TTL ${ttl}` : ''} SETTINGS index_granularity = 8192`,
  );
}

export function viewSelect(v: MaterializedViewDef | PlainViewDef, db: string): string {
  return v.select.replaceAll('{db}', `\`${db}\``);
}

export function createViewSql(db: string, v: MaterializedViewDef | PlainViewDef): Sql {
  if (v.kind === 'view') {
    return raw(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(db, v.name)} TO ${q(db, v.to)} AS ${viewSelect(v, db)}`);
  }
  return raw(`CREATE VIEW IF NOT EXISTS ${q(db, v.name)} AS ${viewSelect(v, db)}`);
}

/** Identity of a view's definition (database-independent), recorded in schema_objects. */
export function viewHash(v: MaterializedViewDef | PlainViewDef): string {
  const body = v.kind === 'view' ? `${v.to}|${v.select}` : v.select;
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}
