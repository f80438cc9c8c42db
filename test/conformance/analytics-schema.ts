import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/store/types.ts';
import { sql, ident, raw } from '../../core/store/sql.ts';
import { SimulatedClock } from '../../core/clock.ts';
import { migrate, schemaObjects, applyRetention } from '../../analytics/schema/index.ts';

/**
 * Migrations on one target: from empty, re-run (zero steps), drift repaired (a dropped column and
 * view come back), retention changes applied. Run on chDB (unit) and the ClickHouse server (functional).
 */
export function schemaConformance(name: string, factory: () => Store): void {
  describe(`analytics schema: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = factory();
      await store.start();
    });
    afterAll(async () => {
      await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
      await store.stop();
    });

    it('creates every object from empty, then a second run applies zero steps', async () => {
      const first = await migrate(store);
      expect(first.manual).toEqual([]);
      expect(first.applied.length).toBe(schemaObjects().length);
      const tables = await store.query<{ name: string }>(sql`SELECT name FROM system.tables WHERE database = ${store.database}`);
      for (const o of schemaObjects()) expect(tables.map((t) => t.name)).toContain(o.name);
      const second = await migrate(store);
      expect(second.applied).toEqual([]);
      expect(second.manual).toEqual([]);
    });

    it('repairs drift: a missing column and a missing view are put back, and only those', async () => {
      await store.exec(raw(`ALTER TABLE \`${store.database}\`.forecasts DROP COLUMN hi`));
      await store.exec(raw(`DROP TABLE \`${store.database}\`.flows_1m_mv`));
      const result = await migrate(store);
      expect(result.applied.map((s) => `${s.action} ${s.object}`).sort()).toEqual([
        'add-column forecasts.hi',
        'create-view flows_1m_mv',
      ]);
      expect((await migrate(store)).applied).toEqual([]);
    });

    it('follows retention changes (TTL where the target has it, otherwise nothing to alter)', async () => {
      const result = await migrate(store, { retention: { raw_days: 7 } });
      if (store.capabilities().ttl) {
        expect(result.applied.map((s) => `${s.action} ${s.object}`).sort()).toEqual([
          'modify-ttl flows_raw',
          'modify-ttl iface_raw',
          'modify-ttl probes_raw',
        ]);
        const [t] = await store.query<{ engine_full: string }>(
          sql`SELECT engine_full FROM system.tables WHERE database = ${store.database} AND name = 'flows_raw'`,
        );
        expect(t!.engine_full).toMatch(/TTL .*toIntervalDay\(7\)/);
      } else {
        expect(result.applied).toEqual([]);
      }
      expect((await migrate(store, { retention: { raw_days: 7 } })).applied).toEqual([]);
    });

    it('drops expired partitions by job where TTL is missing', async () => {
      // The rows' times come from a simulated clock, never today's date. A server with TTL would judge
      // them by its own real clock (and delete them once today is past them): take its TTL off, which
      // makes it the target this job exists for.
      if (store.capabilities().ttl) await store.exec(raw(`ALTER TABLE \`${store.database}\`.probes_raw REMOVE TTL`));
      const clock = new SimulatedClock(Date.UTC(2026, 10, 22));
      const now = clock.now();
      const day = 86_400;
      await store.insert('probes_raw', [
        { window_start: now / 1000 - 40 * day, window_end: now / 1000 - 40 * day + 10, path_id: 'old', sent: 1, received: 1 },
        { window_start: now / 1000 - 1 * day, window_end: now / 1000 - day + 10, path_id: 'new', sent: 1, received: 1 },
      ]);
      const result = await applyRetention(store, { now, retention: { raw_days: 15 }, force: true });
      expect(result.dropped).toContainEqual({ table: 'probes_raw', partition: '20261013' });
      const rows = await store.query<{ path_id: string }>(sql`SELECT path_id FROM ${ident(store.database)}.probes_raw`);
      expect(rows).toEqual([{ path_id: 'new' }]);
    });
  });
}
