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
  type SchemaObject,
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

/** ` ON CLUSTER \`name\`` when the statement runs on every node of a cluster, else nothing. */
export function onCluster(cluster: string | undefined): string {
  return cluster ? ` ON CLUSTER \`${cluster}\`` : '';
}

/**
 * Where and how a table definition is created on a cluster (analytics/schema/cluster.ts): under
 * another name, ON CLUSTER, with a replicated engine and the cluster-only columns. Without it the
 * table is created as defined, on the one server.
 */
export interface TablePlacement {
  name: string;
  cluster: string;
  /** The engine clause, e.g. `ReplicatedMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}')`. */
  engine: string;
  columns: ColumnDef[];
}

export function createTableSql(
  db: string,
  t: TableDef,
  caps: StoreCapabilities,
  retention: RetentionConfig,
  placement?: TablePlacement,
): Sql {
  const cols = (placement?.columns ?? t.columns).map((c) => columnSql(c, caps)).join(', ');
  const engine = placement?.engine ?? `${t.engine}(${t.version ?? ''})`;
  const ttl = ttlExpr(t, caps, retention);
  return raw(
    `CREATE TABLE IF NOT EXISTS ${q(db, placement?.name ?? t.name)}${onCluster(placement?.cluster)} (${cols}) ` +
      `ENGINE = ${engine} PARTITION BY ${partitionExpr(t)} ` +
      `ORDER BY (${t.orderBy.join(', ')})${ttl ? ` TTL ${ttl}` : ''} SETTINGS index_granularity = 8192`,
  );
}

/** `ALTER TABLE db.t [ON CLUSTER c] <clause>`. */
export function alterTableSql(db: string, table: string, clause: string, cluster?: string): Sql {
  return raw(`ALTER TABLE ${q(db, table)}${onCluster(cluster)} ${clause}`);
}

/** `DROP TABLE IF EXISTS db.t [ON CLUSTER c]` (a view is replaced by drop and create). */
export function dropTableSql(db: string, table: string, cluster?: string): Sql {
  return raw(`DROP TABLE IF EXISTS ${q(db, table)}${onCluster(cluster)}`);
}

export function viewSelect(v: MaterializedViewDef | PlainViewDef, db: string): string {
  return v.select.replaceAll('{db}', `\`${db}\``);
}

export function createViewSql(db: string, v: MaterializedViewDef | PlainViewDef, cluster?: string): Sql {
  const on = onCluster(cluster);
  if (v.kind === 'view') {
    return raw(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(db, v.name)}${on} TO ${q(db, v.to)} AS ${viewSelect(v, db)}`);
  }
  return raw(`CREATE VIEW IF NOT EXISTS ${q(db, v.name)}${on} AS ${viewSelect(v, db)}`);
}

/** Identity of a view's definition (database-independent), recorded in schema_objects. */
export function viewHash(v: MaterializedViewDef | PlainViewDef): string {
  const body = v.kind === 'view' ? `${v.to}|${v.select}` : v.select;
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** A table as converge wants it (on the server, or on every node of a cluster). */
export interface WantedTable {
  kind: 'table';
  name: string;
  columns: ColumnDef[];
  /** The engine system.tables should report. */
  engine: string;
  /** The sort key (MergeTree family); undefined for engines without one (Distributed, Null). */
  orderBy?: string[];
  /** The definition whose retention sets its TTL (MergeTree family). */
  ttlOf?: TableDef;
  create: Sql;
}

/** A view as converge wants it: recreated when the hash of its definition changes. */
export interface WantedView {
  kind: 'view';
  name: string;
  hash: string;
  create: Sql;
}

export type WantedObject = WantedTable | WantedView;

/** The schema on one server (or chDB): every definition as it is declared. */
export function singleServerSchema(
  db: string,
  objects: readonly SchemaObject[],
  caps: StoreCapabilities,
  retention: RetentionConfig,
): WantedObject[] {
  return objects.map((o): WantedObject => {
    if (o.kind === 'table') {
      return {
        kind: 'table',
        name: o.name,
        columns: o.columns,
        engine: o.engine,
        orderBy: o.orderBy,
        ttlOf: o,
        create: createTableSql(db, o, caps, retention),
      };
    }
    return { kind: 'view', name: o.name, hash: viewHash(o), create: createViewSql(db, o) };
  });
}
