import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../../analytics/schema/index.ts';
import { createStore, ident, sql, type Store } from '../../core/store/index.ts';
import { requireService, uniqueName } from './services.ts';

/**
 * A database of its own on the ClickHouse server for one test file: created and migrated before the
 * file's tests (its beforeAll runs before any the file registers after calling this), dropped after
 * them. `store` exists once that beforeAll has run.
 */
export function migratedServerStore(prefix: string): { readonly store: Store } {
  const url = requireService('clickhouse');
  let store: Store | undefined;
  beforeAll(async () => {
    store = createStore({ kind: 'server', url, path: '', database: uniqueName(prefix) });
    await store.start();
    await migrate(store);
  });
  afterAll(async () => {
    if (!store) return;
    await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
    await store.stop();
  });
  return {
    get store(): Store {
      if (!store) throw new Error(`the ${prefix} store exists once its beforeAll has run`);
      return store;
    },
  };
}
