import type { Store } from '../../core/store/types.ts';
import { sql, raw, type Sql } from '../../core/store/sql.ts';
import type { Logger } from '../../core/log.ts';
import type { RetentionConfig } from '../config.ts';
import { retentionSchema } from '../config.ts';
import { schemaObjects, type SchemaObject, type TableDef } from './tables.ts';
import { columnSql, createTableSql, createViewSql, normalizeType, renderType, ttlExpr, viewHash } from './ddl.ts';

/**
 * Converge-style migrations (akvorado's model): each step compares the wanted object with what
 * the server reports (system.tables, system.columns, and our schema_objects record for views) and
 * runs only on a difference. A second run applies zero steps.
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
}

/** Records which definition of each view is installed (views cannot be compared reliably as text across versions). */
const stateTable = 'schema_objects';

interface ServerColumn {
  table: string;
  name: string;
  type: string;
}

export async function migrate(store: Store, options: MigrateOptions = {}): Promise<MigrationResult> {
  const retention = retentionSchema.parse(options.retention ?? {});
  const caps = store.capabilities();
  const db = store.database;
  const applied: MigrationStep[] = [];
  const manual: string[] = [];

  const run = async (step: MigrationStep, statement: Sql) => {
    if (!options.dryRun) await store.exec(statement);
    applied.push(step);
    options.onStep?.(step);
    options.log?.info({ object: step.object, action: step.action }, 'schema step applied');
  };

  await store.exec(
    raw(
      `CREATE TABLE IF NOT EXISTS \`${db}\`.\`${stateTable}\` (name String, hash String, applied_at DateTime('UTC')) ` +
        `ENGINE = ReplacingMergeTree(applied_at) ORDER BY name`,
    ),
  );

  const tables = await store.query<{ name: string; engine: string; engine_full: string; sorting_key: string }>(
    sql`SELECT name, engine, engine_full, sorting_key FROM system.tables WHERE database = ${db}`,
  );
  const tableByName = new Map(tables.map((t) => [t.name, t]));
  const columns = await store.query<ServerColumn>(sql`SELECT table, name, type FROM system.columns WHERE database = ${db}`);
  const columnsByTable = new Map<string, ServerColumn[]>();
  for (const c of columns) {
    const list = columnsByTable.get(c.table) ?? [];
    list.push(c);
    columnsByTable.set(c.table, list);
  }
  const states = await store.query<{ name: string; hash: string }>(
    sql`SELECT name, argMax(hash, applied_at) AS hash FROM ${raw(`\`${db}\`.\`${stateTable}\``)} GROUP BY name`,
  );
  const hashByName = new Map(states.map((s) => [s.name, s.hash]));

  const objects: SchemaObject[] = schemaObjects();
  for (const obj of objects) {
    if (obj.kind === 'table') {
      const existing = tableByName.get(obj.name);
      const create = createTableSql(db, obj, caps, retention);
      if (!existing) {
        await run({ object: obj.name, action: 'create-table', statement: create.text }, create);
        continue;
      }
      await convergeTable(obj, existing, columnsByTable.get(obj.name) ?? []);
    } else {
      const hash = viewHash(obj);
      const exists = tableByName.has(obj.name);
      if (exists && hashByName.get(obj.name) === hash) continue;
      const create = createViewSql(db, obj);
      const record = sql`INSERT INTO ${raw(`\`${db}\`.\`${stateTable}\``)} (name, hash, applied_at) VALUES (${obj.name}, ${hash}, now())`;
      if (exists) {
        const statement = raw(`DROP TABLE IF EXISTS \`${db}\`.\`${obj.name}\``);
        await run({ object: obj.name, action: 'replace-view', statement: `${statement.text}; ${create.text}` }, statement);
        if (!options.dryRun) await store.exec(create);
      } else {
        await run({ object: obj.name, action: 'create-view', statement: create.text }, create);
      }
      if (!options.dryRun) await store.exec(record);
    }
  }
  return { applied, manual, version: store.version().text };

  async function convergeTable(
    t: TableDef,
    existing: { engine: string; engine_full: string; sorting_key: string },
    have: ServerColumn[],
  ) {
    if (existing.engine !== t.engine)
      manual.push(`${t.name}: engine is ${existing.engine}, wanted ${t.engine} (recreate the table)`);
    const wantKey = t.orderBy.join(', ');
    if (existing.sorting_key.replace(/[\s()]/g, '') !== wantKey.replace(/[\s()]/g, ''))
      manual.push(`${t.name}: sorting key is (${existing.sorting_key}), wanted (${wantKey}) (recreate the table)`);
    const haveByName = new Map(have.map((c) => [c.name, c]));
    let previous: string | undefined;
    for (const col of t.columns) {
      const current = haveByName.get(col.name);
      const wantType = renderType(col.type, caps);
      if (!current) {
        const statement = raw(
          `ALTER TABLE \`${db}\`.\`${t.name}\` ADD COLUMN ${columnSql(col, caps)}${previous ? ` AFTER \`${previous}\`` : ''}`,
        );
        await run({ object: `${t.name}.${col.name}`, action: 'add-column', statement: statement.text }, statement);
      } else if (normalizeType(current.type) !== normalizeType(wantType)) {
        if (typeof col.type === 'object' || t.orderBy.includes(col.name)) {
          manual.push(`${t.name}.${col.name}: type is ${current.type}, wanted ${wantType}`);
        } else {
          const statement = raw(`ALTER TABLE \`${db}\`.\`${t.name}\` MODIFY COLUMN ${columnSql(col, caps)}`);
          await run({ object: `${t.name}.${col.name}`, action: 'modify-column', statement: statement.text }, statement);
        }
      }
      previous = col.name;
    }
    if (caps.ttl) {
      const want = ttlExpr(t, caps, retention);
      const haveTtl = /TTL\s+(.+?)(?:\s+SETTINGS|$)/.exec(existing.engine_full)?.[1];
      const haveDays = haveTtl ? /toIntervalDay\((\d+)\)/.exec(haveTtl)?.[1] : undefined;
      const wantDays = want ? /toIntervalDay\((\d+)\)/.exec(want)?.[1] : undefined;
      if (want && haveDays !== wantDays) {
        const statement = raw(`ALTER TABLE \`${db}\`.\`${t.name}\` MODIFY TTL ${want}`);
        await run({ object: t.name, action: 'modify-ttl', statement: statement.text }, statement);
      } else if (!want && haveTtl) {
        manual.push(`${t.name}: has TTL ${haveTtl} but its tier keeps data forever (REMOVE TTL by hand)`);
      }
    }
  }
}
