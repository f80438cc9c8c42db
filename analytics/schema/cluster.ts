import type { Store, StoreCapabilities } from '../../core/store/types.ts';
import { raw, sql, type Sql } from '../../core/store/sql.ts';
import { createStore, type StoreDeps } from '../../core/store/index.ts';
import type { LoadedConfig } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';
import { analyticsSchema, type RetentionConfig } from '../config.ts';
import { columnSql, createTableSql, createViewSql, onCluster, viewHash, type WantedObject } from './ddl.ts';
import { rawTableOf, type ColumnDef, type MaterializedViewDef, type SchemaObject, type TableDef } from './tables.ts';

/**
 * The schema on a ClickHouse cluster (issue 20; docs/notes/analytics.md "Cluster"), derived from the
 * same definitions as on one server, every statement ON CLUSTER:
 *
 * - `<table>_local` on every node: the replicated engine (`Replicated<engine>`, ZooKeeper path per
 *   shard and table, replica from the `{replica}` macro); `<table>`: a `Distributed` table over it,
 *   sharded by `halfMD5(<shardKey>)`, under the name the queries read, so they run unchanged.
 * - Raw tables (what the sink writes) get an entry: `<raw>_ingest_local`, a `Null` table on every
 *   node carrying the materialized views (the raw rows into `<raw>_local`, the rollups, the offsets
 *   mark), and `<raw>_ingest`, a Distributed table over it for other writers (`throughIngest`).
 *   Each view writes a replicated table, and a replicated table drops a block identical to one it
 *   already stored (ZooKeeper keeps the hashes of recent blocks). So an INSERT repeated after a
 *   replica died mid-INSERT — possibly after some views had committed — stores each view's block
 *   exactly once. With the views on the replicated raw table instead, a repeated block is dropped
 *   there and no view runs at all (checked on 18.16.1): the views that had not committed when the
 *   replica died would never get it.
 * - Rollups get `src_mark` (the highest source offset of each row's group): blocks from different
 *   INSERTs then never look identical, so a replicated rollup never drops one as a repeat.
 * - The offsets view of each raw table is named to run last (views fed by one INSERT run in name
 *   order on 18.16): a stored mark means every other view of that INSERT has committed.
 */

/** Per-node table behind a Distributed one. */
export function localName(table: string): string {
  return `${table}_local`;
}

/** The Distributed entry of a raw table; on each node its Null table is `<raw>_ingest_local`. */
export function ingestName(table: string): string {
  return `${table}_ingest`;
}

/** The raw tables: written through their ingest table on a cluster. */
export const ingestFedTables: ReadonlySet<string> = new Set(Object.values(rawTableOf));

/** The offsets view of a raw table on a cluster: its name sorts after every other view of the table. */
export function clusterViewName(v: MaterializedViewDef): string {
  return v.to === 'sink_offsets' ? `zz_${v.name}` : v.name;
}

/** Cluster-only rollup column: see the module comment. */
export const srcMarkColumn: ColumnDef = {
  name: 'src_mark',
  type: { aggregate: 'AggregateFunction(max, UInt64)' },
  doc: 'Highest src_offset of the rows this row was rolled up from (keeps blocks of different INSERTs distinct)',
};

/** The expression the Distributed tables shard by; the sink computes the same (analytics/sink/shards.ts). */
export function shardingExpr(t: TableDef): string {
  return `halfMD5(\`${t.shardKey}\`)`;
}

/** ZooKeeper path of a replicated table: per shard, or one for every node (`all`). */
export function zookeeperPath(db: string, table: string, scope: 'shard' | 'all'): string {
  return `/clickhouse/tables/${scope === 'shard' ? '{shard}' : 'all'}/${db}/${table}`;
}

export function replicatedEngine(engine: string, path: string, version?: string): string {
  return `Replicated${engine}('${path}', '{replica}'${version ? `, ${version}` : ''})`;
}

function plainTableSql(
  db: string,
  name: string,
  cluster: string,
  columns: ColumnDef[],
  engine: string,
  caps: StoreCapabilities,
): Sql {
  const cols = columns.map((c) => columnSql(c, caps)).join(', ');
  return raw(`CREATE TABLE IF NOT EXISTS \`${db}\`.\`${name}\`${onCluster(cluster)} (${cols}) ENGINE = ${engine}`);
}

/** Rewrites a view fed by a raw table to read that table's ingest entry and write the local tables. */
function clusterView(v: MaterializedViewDef, rollups: ReadonlySet<string>): MaterializedViewDef {
  const source = `FROM {db}.${v.from} `;
  if (!v.select.includes(source)) throw new Error(`view ${v.name}: its SELECT does not read "${source.trim()}"`);
  let select = v.select.replace(source, `FROM {db}.${localName(ingestName(v.from))} `);
  if (rollups.has(v.to)) select = select.replace(` FROM {db}.`, `, maxState(src_offset) AS src_mark FROM {db}.`);
  return { ...v, name: clusterViewName(v), from: localName(ingestName(v.from)), to: localName(v.to), select };
}

/** Every object of the schema as it must exist on each node of `cluster`. */
export function clusterSchema(
  db: string,
  cluster: string,
  objects: readonly SchemaObject[],
  caps: StoreCapabilities,
  retention: RetentionConfig,
): WantedObject[] {
  const views = objects.filter((o): o is MaterializedViewDef => o.kind === 'view');
  const rollups = new Set(views.filter((v) => ingestFedTables.has(v.from) && v.to !== 'sink_offsets').map((v) => v.to));
  const wanted: WantedObject[] = [];
  const distributed = (name: string, over: string, columns: ColumnDef[], t: TableDef): void => {
    wanted.push({
      kind: 'table',
      name,
      columns,
      engine: 'Distributed',
      create: plainTableSql(
        db,
        name,
        cluster,
        columns,
        `Distributed(\`${cluster}\`, \`${db}\`, \`${over}\`, ${shardingExpr(t)})`,
        caps,
      ),
    });
  };
  for (const o of objects) {
    if (o.kind === 'table') {
      const columns = rollups.has(o.name) ? [...o.columns, srcMarkColumn] : o.columns;
      const local = localName(o.name);
      const engine = replicatedEngine(o.engine, zookeeperPath(db, local, 'shard'), o.version);
      wanted.push({
        kind: 'table',
        name: local,
        columns,
        engine: `Replicated${o.engine}`,
        orderBy: o.orderBy,
        ttlOf: o,
        create: createTableSql(db, o, caps, retention, { name: local, cluster, engine, columns }),
      });
      distributed(o.name, local, columns, o);
      if (ingestFedTables.has(o.name)) {
        const entry = localName(ingestName(o.name));
        wanted.push({
          kind: 'table',
          name: entry,
          columns: o.columns,
          engine: 'Null',
          create: plainTableSql(db, entry, cluster, o.columns, 'Null', caps),
        });
        distributed(ingestName(o.name), entry, o.columns, o);
        const store: MaterializedViewDef = {
          kind: 'view',
          name: `${o.name}_store_mv`,
          doc: `Stores the rows written to ${entry} in ${local}`,
          from: entry,
          to: local,
          select: `SELECT * FROM {db}.${entry}`,
        };
        wanted.push({ kind: 'view', name: store.name, hash: viewHash(store), create: createViewSql(db, store, cluster) });
      }
    } else if (o.kind === 'view') {
      if (!ingestFedTables.has(o.from)) throw new Error(`view ${o.name}: only views of raw tables are placed on a cluster`);
      const v = clusterView(o, rollups);
      wanted.push({ kind: 'view', name: v.name, hash: viewHash(v), create: createViewSql(db, v, cluster) });
    } else {
      // Plain views read the Distributed tables: the same definition on every node.
      wanted.push({ kind: 'view', name: o.name, hash: viewHash(o), create: createViewSql(db, o, cluster) });
    }
  }
  return wanted;
}

/**
 * The record of installed view definitions, on every node of the cluster: one replicated table for
 * all of them (any node converges and reads it).
 */
export function clusterStateTableSql(db: string, cluster: string, table: string): Sql {
  const engine = replicatedEngine('ReplacingMergeTree', zookeeperPath(db, table, 'all'), 'applied_at');
  return raw(
    `CREATE TABLE IF NOT EXISTS \`${db}\`.\`${table}\`${onCluster(cluster)} (name String, hash String, applied_at DateTime('UTC')) ` +
      `ENGINE = ${engine} ORDER BY name`,
  );
}

/** The native (TCP) address of every node of `cluster`, as the server the store talks to lists them. */
export async function clusterAddresses(store: Store, cluster: string): Promise<string[]> {
  const rows = await store.query<{ address: string }>(
    sql`SELECT concat(host_address, ':', toString(port)) AS address FROM system.clusters WHERE cluster = ${cluster} ORDER BY shard_num, replica_num`,
  );
  if (rows.length === 0) throw new Error(`the server knows no cluster ${JSON.stringify(cluster)} (system.clusters)`);
  return rows.map((r) => r.address);
}

/**
 * A store whose inserts into raw tables go through their Distributed ingest table, so the rows feed
 * the views on the shard they land on (the sink writes shards itself; this is for other writers,
 * e.g. test fixtures). Everything else is the store itself.
 */
export function throughIngest(store: Store): Store {
  const route = (table: string): string => (ingestFedTables.has(table) ? ingestName(table) : table);
  return {
    kind: store.kind,
    database: store.database,
    rawFormats: store.rawFormats,
    start: () => store.start(),
    stop: () => store.stop(),
    version: () => store.version(),
    capabilities: () => store.capabilities(),
    exec: (statement) => store.exec(statement),
    query: <T>(statement: Sql) => store.query<T>(statement),
    insert: (table, rows) => store.insert(route(table), rows),
    ping: () => store.ping(),
    ...(store.insertRaw
      ? { insertRaw: (table, format, body, columns) => store.insertRaw!(route(table), format, body, columns) }
      : {}),
  };
}

/**
 * Client settings for stores that read and write the Distributed tables: inserts wait until every
 * shard has the rows (reads right after see them), subqueries over Distributed tables (a JOIN's right
 * side) run once and are shipped to the shards, and each shard is read from its first healthy replica
 * — the one the sink and Distributed inserts write to while it is up.
 */
export const clusterStoreSettings: Readonly<Record<string, string | number>> = {
  insert_distributed_sync: 1,
  distributed_product_mode: 'global',
  load_balancing: 'in_order',
};

/**
 * The configured store for whoever reads or writes the analytics tables (roles, CLI commands): on a
 * cluster (`analytics.store.cluster`) a server store with `clusterStoreSettings`, else as configured.
 */
export function analyticsStore(config: LoadedConfig, deps: StoreDeps = {}): Store {
  const cluster = config.source.section('analytics', analyticsSchema).store.cluster;
  if (cluster && config.root.services.store.kind !== 'server')
    throw new ConfigError(['analytics.store.cluster needs services.store.kind "server" (a node of that cluster)']);
  return createStore(config.root.services.store, deps, cluster ? { settings: clusterStoreSettings } : {});
}
