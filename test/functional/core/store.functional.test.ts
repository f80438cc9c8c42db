import { describe, expect, it } from 'vitest';
import { storeConformance } from '../../conformance/store.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { createStore } from '../../../core/store/index.ts';
import { ServerStore } from '../../../core/store/server.ts';
import { StoreError } from '../../../core/store/errors.ts';
import { sql, ident } from '../../../core/store/sql.ts';

const url = requireService('clickhouse');

storeConformance('clickhouse server', () => createStore({ kind: 'server', url, path: '', database: uniqueName('conf') }));

describe('clickhouse server store', () => {
  it('pins the settings that differ between 18.16 and modern servers on every request', async () => {
    const store = createStore({ kind: 'server', url, path: '', database: uniqueName('pin') });
    await store.start();
    try {
      const rows = await store.query<{ name: string; value: string }>(
        sql`SELECT name, value FROM system.settings WHERE name IN ('output_format_json_quote_64bit_integers', 'input_format_skip_unknown_fields', 'date_time_input_format') ORDER BY name`,
      );
      expect(rows).toEqual([
        { name: 'date_time_input_format', value: 'best_effort' },
        { name: 'input_format_skip_unknown_fields', value: '1' },
        { name: 'output_format_json_quote_64bit_integers', value: '0' },
      ]);
      await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
    } finally {
      await store.stop();
    }
  });

  it('reports a refused connection as a transient StoreError without a ClickHouse code', async () => {
    const store = new ServerStore({ url: 'http://127.0.0.1:1', database: 'x', requestTimeoutMs: 2000 });
    const err = await store.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).transient).toBe(true);
    expect((err as StoreError).chCode).toBeUndefined();
    expect(await store.ping()).toBe(false);
  });
});
