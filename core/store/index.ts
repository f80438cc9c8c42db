import type { ServicesConfig } from '../config/schema.ts';
import type { Store } from './types.ts';
import { sql, ident, type Sql } from './sql.ts';
import { ServerStore } from './server.ts';
import { ChdbStore } from './chdb.ts';
import { StoreError } from './errors.ts';
import type { StoreDeps } from './common.ts';

export type { Store, StoreVersion, StoreCapabilities } from './types.ts';
export * from './sql.ts';
export * from './errors.ts';
export { capabilitiesFor, parseVersion, pinnedSettings, atLeast } from './version.ts';
export type { StoreDeps, RawFormat, RawBody } from './common.ts';
export { ServerStore, ChdbStore };

/**
 * Builds the configured store (inert: no I/O until `start()`). `server` needs `url`
 * (`CLICKHOUSE_URL` sets it); `chdb` uses `path` (empty: a temporary folder).
 */
export function createStore(
  config: ServicesConfig['store'],
  deps: StoreDeps = {},
  options: { settings?: Readonly<Record<string, string | number>> } = {},
): Store {
  if (config.kind === 'server') {
    if (!config.url) throw new StoreError('services.store.url is required when services.store.kind is "server"');
    return new ServerStore({ url: config.url, database: config.database, settings: options.settings }, deps);
  }
  return new ChdbStore({ path: config.path, database: config.database }, deps);
}

/** `db`.`table` for a table of the store's database (every query names its tables this way). */
export function tableRef(store: Pick<Store, 'database'>, table: string): Sql {
  return sql`${ident(store.database)}.${ident(table)}`;
}
