import type { Store } from '../../core/store/types.ts';
import { sql, raw, type Sql } from '../../core/store/sql.ts';
import type { Logger } from '../../core/log.ts';
import type { RetentionConfig } from '../config.ts';
import { retentionSchema } from '../config.ts';
import { schemaObjects } from './tables.ts';
import {
  alterTableSql,
  columnSql,
  dropTableSql,
  normalizeType,
  onCluster,
  renderType,
  singleServerSchema,
  ttlExpr,
  type WantedObject,
  type WantedTable,
} from './ddl.ts';
import { clusterAddresses, clusterSchema, clusterStateTableSql } from './cluster.ts';

/**
 * Converge-style migrations (akvorado's model): each step compares the wanted object with what
 * the server reports (system.tables, system.columns, and our schema_objects record for views) and
 * runs only on a difference. A second run applies zero steps.
 *
 * On a cluster (`cluster`: its name in remote_servers) the wanted objects are the cluster form of
 * the same definitions (cluster.ts), every statement runs ON CLUSTER, and what each node reports is
 * read through `remote()` (18.16 has no clusterAllReplicas): an object counts as present only when
 * every node has it, and a difference between nodes is reported rather than guessed at.
 */
export interface MigrationStep {
  object: string;
  action: 'create-table' | 'add-column' | 'modify-column' | 'modify-ttl' | 'create-view' | 'replace-view';
  statement: string;
}

export interface MigrationResult {
  applied: MigrationStep[];
  /** Differences converge cannot fix in place (engine or sort-key changes): reported, not applied. */
  manual: string[];
  version: string;
}

export interface MigrateOptions {
  retention?: Partial<RetentionConfig>;
  log?: Logger;
  /** Plan only: return the steps without running them. */
  dryRun?: boolean;
  /** Called after each applied step (metrics). */
  onStep?: (step: MigrationStep) => void;
  /** Converge on this ClickHouse cluster (its name in `remote_servers`) instead of the one server. */
  cluster?: string;
}

/** Records which definition of each view is installed (views cannot be compared reliably as text across versions). */
const stateTable = 'schema_objects';

interface ServerTable {
  name: string;
  engine: string;
  engine_full: string;
  sorting_key: string;
}

interface ServerColumn {
  table: string;
  name: string;
  type: string;
}

/** What one server reports about the database. */
interface NodeState {
  tables: Map<string, ServerTable>;
  columns: Map<string, Map<string, ServerColumn>>;
}

/** system.tables and system.columns of the database, from the store's server or (cluster) a node through remote(). */
async function readNode(store: Store, db: string, address?: string): Promise<NodeState> {
  const from = (table: string): Sql => (address ? sql`remote(${address}, system, ${raw(table)})` : raw(`system.${table}`));
  const tables = await store.query<ServerTable>(
    sql`SELECT name, engine, engine_full, sorting_key FROM ${from('tables')} WHERE database = ${db}`,
  );
  const columns = await store.query<ServerColumn>(sql`SELECT table, name, type FROM ${from('columns')} WHERE database = ${db}`);
  const byTable = new Map<string, Map<string, ServerColumn>>();
  for (const c of columns) {
    const map = byTable.get(c.table) ?? new Map<string, ServerColumn>();
    map.set(c.name, c);
    byTable.set(c.table, map);
  }
  return { tables: new Map(tables.map((t) => [t.name, t])), columns: byTable };
}

/** The one value every node agrees on, or `mixed` when they differ. */
function agreed<T>(values: T[]): T | 'mixed' {
  const first = values[0] as T;
  return values.every((v) => v === first) ? first : 'mixed';
}

export async function migrate(store: Store, options: MigrateOptions = {}): Promise<MigrationResult> {
  const retention = retentionSchema.parse(options.retention ?? {});
  const caps = store.capabilities();
  const db = store.database;
  const cluster = options.cluster;
  const applied: MigrationStep[] = [];
  const manual: string[] = [];

  const run = async (step: MigrationStep, statement: Sql) => {
    if (!options.dryRun) await store.exec(statement);
    applied.push(step);
    options.onStep?.(step);
    options.log?.info({ object: step.object, action: step.action }, 'schema step applied');
  };

  const addresses = cluster ? await clusterAddresses(store, cluster) : [undefined];
  if (cluster) {
    // The database on every node (the store created it on its own server only); checked first, so a
    // converged cluster sees no ON CLUSTER statement at all.
    const dbs = await Promise.all(
      addresses.map((a) => store.query(sql`SELECT name FROM remote(${a!}, system, databases) WHERE name = ${db}`)),
    );
    if (dbs.some((rows) => rows.length === 0))
      await store.exec(raw(`CREATE DATABASE IF NOT EXISTS \`${db}\`${onCluster(cluster)}`));
  }
  const stateRef = raw(`\`${db}\`.\`${stateTable}\``);
  await store.exec(
    cluster
      ? clusterStateTableSql(db, cluster, stateTable)
      : raw(
          `CREATE TABLE IF NOT EXISTS ${stateRef.text} (name String, hash String, applied_at DateTime('UTC')) ` +
            `ENGINE = ReplacingMergeTree(applied_at) ORDER BY name`,
        ),
  );

  const nodes = await Promise.all(addresses.map((a) => readNode(store, db, a)));
  const states = await store.query<{ name: string; hash: string }>(
    sql`SELECT name, argMax(hash, applied_at) AS hash FROM ${stateRef} GROUP BY name`,
  );
  const hashByName = new Map(states.map((s) => [s.name, s.hash]));

  const wanted: WantedObject[] = cluster
    ? clusterSchema(db, cluster, schemaObjects(), caps, retention)
    : singleServerSchema(db, schemaObjects(), caps, retention);
  for (const obj of wanted) {
    const present = nodes.filter((n) => n.tables.has(obj.name)).length;
    if (obj.kind === 'table') {
      if (present < nodes.length) {
        await run({ object: obj.name, action: 'create-table', statement: obj.create.text }, obj.create);
        continue;
      }
      await convergeTable(obj);
    } else {
      if (present === nodes.length && hashByName.get(obj.name) === obj.hash) continue;
      const record = sql`INSERT INTO ${stateRef} (name, hash, applied_at) VALUES (${obj.name}, ${obj.hash}, now())`;
      if (present > 0) {
        const statement = dropTableSql(db, obj.name, cluster);
        await run({ object: obj.name, action: 'replace-view', statement: `${statement.text}; ${obj.create.text}` }, statement);
        if (!options.dryRun) await store.exec(obj.create);
      } else {
        await run({ object: obj.name, action: 'create-view', statement: obj.create.text }, obj.create);
      }
      if (!options.dryRun) await store.exec(record);
    }
  }
  return { applied, manual, version: store.version().text };

  async function convergeTable(t: WantedTable) {
    const existing = nodes.map((n) => n.tables.get(t.name)!);
    const where = cluster ? ' on some node' : '';
    for (const e of existing) {
      if (e.engine !== t.engine) {
        manual.push(`${t.name}: engine is ${e.engine}${where}, wanted ${t.engine} (recreate the table)`);
        break;
      }
    }
    if (t.orderBy) {
      const wantKey = t.orderBy.join(', ');
      const key = existing.find((e) => e.sorting_key.replace(/[\s()]/g, '') !== wantKey.replace(/[\s()]/g, ''));
      if (key) manual.push(`${t.name}: sorting key is (${key.sorting_key})${where}, wanted (${wantKey}) (recreate the table)`);
    }
    let previous: string | undefined;
    for (const col of t.columns) {
      const type = agreed(nodes.map((n) => n.columns.get(t.name)?.get(col.name)?.type));
      const wantType = renderType(col.type, caps);
      if (type === 'mixed') {
        manual.push(`${t.name}.${col.name}: the nodes disagree on this column (type or presence)`);
      } else if (type === undefined) {
        const clause = `ADD COLUMN ${columnSql(col, caps)}${previous ? ` AFTER \`${previous}\`` : ''}`;
        const statement = alterTableSql(db, t.name, clause, cluster);
        await run({ object: `${t.name}.${col.name}`, action: 'add-column', statement: statement.text }, statement);
      } else if (normalizeType(type) !== normalizeType(wantType)) {
        if (typeof col.type === 'object' || t.orderBy?.includes(col.name)) {
          manual.push(`${t.name}.${col.name}: type is ${type}, wanted ${wantType}`);
        } else {
          const statement = alterTableSql(db, t.name, `MODIFY COLUMN ${columnSql(col, caps)}`, cluster);
          await run({ object: `${t.name}.${col.name}`, action: 'modify-column', statement: statement.text }, statement);
        }
      }
      previous = col.name;
    }
    if (caps.ttl && t.ttlOf) {
      const want = ttlExpr(t.ttlOf, caps, retention);
      const haveTtl = agreed(existing.map((e) => /TTL\s+(.+?)(?:\s+SETTINGS|$)/.exec(e.engine_full)?.[1]));
      const haveDays = haveTtl === 'mixed' ? 'mixed' : haveTtl ? /toIntervalDay\((\d+)\)/.exec(haveTtl)?.[1] : undefined;
      const wantDays = want ? /toIntervalDay\((\d+)\)/.exec(want)?.[1] : undefined;
      if (haveDays === 'mixed') {
        manual.push(`${t.name}: the nodes have different TTLs`);
      } else if (want && haveDays !== wantDays) {
        const statement = alterTableSql(db, t.name, `MODIFY TTL ${want}`, cluster);
        await run({ object: t.name, action: 'modify-ttl', statement: statement.text }, statement);
      } else if (!want && haveTtl) {
        manual.push(`${t.name}: has TTL ${haveTtl} but its tier keeps data forever (REMOVE TTL by hand)`);
      }
    }
  }
}
