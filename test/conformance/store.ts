import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/store/types.ts';
import { StoreError } from '../../core/store/errors.ts';
import { capabilitiesFor } from '../../core/store/version.ts';
import { sql, ident, list, dateTimeMs, raw } from '../../core/store/sql.ts';

/**
 * The store contract, run against every implementation (chDB in a unit test, the ClickHouse server
 * in test/functional/core/store.functional.test.ts). `factory` returns an unstarted store on a
 * database no other test uses; the suite starts it, and drops the database at the end.
 */
export function storeConformance(name: string, factory: () => Store): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    const t = (table: string) => sql`${ident(store.database)}.${ident(table)}`;

    beforeAll(async () => {
      store = factory();
      await store.start();
      await store.start(); // idempotent
    });

    afterAll(async () => {
      if (!store) return;
      await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
      await store.stop();
      await store.stop(); // idempotent
    });

    it('reports its version, capabilities that follow it, and answers ping', async () => {
      const v = store.version();
      expect(v.major).toBeGreaterThanOrEqual(18);
      expect(v.text).toMatch(/^\d+\.\d+/);
      expect(store.capabilities()).toEqual(capabilitiesFor(v));
      expect(await store.ping()).toBe(true);
      const [row] = await store.query<{ v: string }>(sql`SELECT version() AS v`);
      expect(row!.v).toBe(v.text);
    });

    it('runs the same DDL, inserts and queries', async () => {
      await store.exec(
        sql`CREATE TABLE IF NOT EXISTS ${t('basic')} (id UInt32, name String, ratio Float64, flag UInt8, ts DateTime('UTC'))
            ENGINE = MergeTree() PARTITION BY toYYYYMMDD(ts) ORDER BY id`,
      );
      await store.insert('basic', [
        { id: 1, name: 'one', ratio: 0.5, flag: 1, ts: 1_767_571_200 },
        { id: 2, name: 'two', ratio: 1.25, flag: 0, ts: 1_767_657_600 },
        { id: 3, name: 'three', ratio: -3, flag: 1, ts: 1_767_657_660, unknown_column: 'skipped' },
      ]);
      const rows = await store.query<{ id: number; name: string; ratio: number; flag: number }>(
        sql`SELECT id, name, ratio, flag FROM ${t('basic')} ORDER BY id`,
      );
      expect(rows).toEqual([
        { id: 1, name: 'one', ratio: 0.5, flag: 1 },
        { id: 2, name: 'two', ratio: 1.25, flag: 0 },
        { id: 3, name: 'three', ratio: -3, flag: 1 },
      ]);
      const [agg] = await store.query<{ n: number; s: number }>(
        sql`SELECT count() AS n, sum(ratio) AS s FROM ${t('basic')} WHERE id IN ${list([1, 2, 3])} AND flag = ${true}`,
      );
      expect(agg).toEqual({ n: 2, s: -2.5 });
      await store.exec(sql`INSERT INTO ${t('basic')} SELECT id + 10, name, ratio, flag, ts FROM ${t('basic')}`);
      const [after] = await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${t('basic')}`);
      expect(after!.n).toBe(6);
    });

    const hostile = [
      "it's",
      'back\\slash',
      "\\'",
      "'; DROP TABLE basic; --",
      'line\nbreak\r\ttab',
      'unicode: é ü 日本語 😀',
      '\u0000nul',
      '`backtick` "double"',
      '{"json": [1, 2]}',
      '',
    ];

    it('round-trips hostile strings through inserts and through sql literals', async () => {
      await store.exec(sql`CREATE TABLE IF NOT EXISTS ${t('strings')} (i UInt32, s String) ENGINE = MergeTree() ORDER BY i`);
      await store.insert(
        'strings',
        hostile.map((s, i) => ({ i, s })),
      );
      const rows = await store.query<{ i: number; s: string }>(sql`SELECT i, s FROM ${t('strings')} ORDER BY i`);
      expect(rows.map((r) => r.s)).toEqual(hostile);
      for (const [i, s] of hostile.entries()) {
        const found = await store.query<{ i: number; echo: string }>(
          sql`SELECT i, ${s} AS echo FROM ${t('strings')} WHERE s = ${s}`,
        );
        expect(found).toEqual([{ i, echo: s }]);
      }
    });

    it('returns 64-bit integers as numbers', async () => {
      await store.exec(sql`CREATE TABLE IF NOT EXISTS ${t('big')} (k String, v UInt64, w Int64) ENGINE = MergeTree() ORDER BY k`);
      await store.insert('big', [
        { k: 'max', v: Number.MAX_SAFE_INTEGER, w: -Number.MAX_SAFE_INTEGER },
        { k: 'small', v: 1, w: -1 },
      ]);
      const rows = await store.query<{ k: string; v: number; w: number; n: number }>(
        sql`SELECT k, v, w, (SELECT count() FROM ${t('big')}) AS n FROM ${t('big')} ORDER BY k`,
      );
      expect(rows).toEqual([
        { k: 'max', v: Number.MAX_SAFE_INTEGER, w: -Number.MAX_SAFE_INTEGER, n: 2 },
        { k: 'small', v: 1, w: -1, n: 2 },
      ]);
      for (const r of rows) expect(typeof r.v).toBe('number');
      const [c] = await store.query<{ c: number; s: number }>(sql`SELECT count() AS c, sum(v) AS s FROM ${t('big')}`);
      expect(c).toEqual({ c: 2, s: Number.MAX_SAFE_INTEGER + 1 });
      expect(typeof c!.c).toBe('number');
    });

    it('round-trips DateTime (epoch seconds and ISO text in; UTC text and epoch out)', async () => {
      await store.exec(
        sql`CREATE TABLE IF NOT EXISTS ${t('times')} (k String, ts DateTime('UTC')) ENGINE = MergeTree() ORDER BY k`,
      );
      const ms = Date.UTC(2026, 10, 22, 3, 4, 5);
      await store.insert('times', [
        { k: 'epoch', ts: ms / 1000 },
        { k: 'iso', ts: new Date(ms).toISOString() },
        { k: 'text', ts: '2026-11-22 03:04:05' },
      ]);
      const rows = await store.query<{ k: string; ts: string; epoch: number }>(
        sql`SELECT k, ts, toUnixTimestamp(ts) AS epoch FROM ${t('times')} WHERE ts = ${dateTimeMs(ms)} ORDER BY k`,
      );
      expect(rows).toEqual([
        { k: 'epoch', ts: '2026-11-22 03:04:05', epoch: ms / 1000 },
        { k: 'iso', ts: '2026-11-22 03:04:05', epoch: ms / 1000 },
        { k: 'text', ts: '2026-11-22 03:04:05', epoch: ms / 1000 },
      ]);
      const [minute] = await store.query<{ m: number }>(
        sql`SELECT toUnixTimestamp(toStartOfMinute(ts)) AS m FROM ${t('times')} WHERE k = ${'epoch'}`,
      );
      expect(minute!.m).toBe(Math.floor(ms / 60_000) * 60);
    });

    it('inserts pre-encoded bodies (JSONEachRow and TabSeparated)', async () => {
      expect(store.insertRaw).toBeTypeOf('function');
      await store.exec(sql`CREATE TABLE IF NOT EXISTS ${t('rawins')} (a UInt32, b String) ENGINE = MergeTree() ORDER BY a`);
      await store.insertRaw!('rawins', 'JSONEachRow', '{"a":1,"b":"x\\ny"}\n{"a":2,"b":"z"}\n');
      await store.insertRaw!('rawins', 'TabSeparated', Buffer.from('3\ttab\\tbed\n4\tq\n'), ['a', 'b']);
      const rows = await store.query<{ a: number; b: string }>(sql`SELECT a, b FROM ${t('rawins')} ORDER BY a`);
      expect(rows).toEqual([
        { a: 1, b: 'x\ny' },
        { a: 2, b: 'z' },
        { a: 3, b: 'tab\tbed' },
        { a: 4, b: 'q' },
      ]);
    });

    it('inserts RowBinary in pieces where it lists the format, and refuses it clearly where not', async () => {
      expect(store.rawFormats).toEqual(expect.arrayContaining(['JSONEachRow', 'TabSeparated']));
      await store.exec(sql`CREATE TABLE IF NOT EXISTS ${t('rawbin')} (a UInt32, b String) ENGINE = MergeTree() ORDER BY a`);
      // a = 7, b = "é\t" (3 UTF-8 bytes), split mid-row across two pieces.
      const body = [Buffer.from([7, 0, 0]), Buffer.from([0, 3, 0xc3, 0xa9, 0x09])];
      if (store.rawFormats.includes('RowBinary')) {
        await store.insertRaw!('rawbin', 'RowBinary', body, ['a', 'b']);
        expect(await store.query(sql`SELECT a, b FROM ${t('rawbin')}`)).toEqual([{ a: 7, b: 'é\t' }]);
      } else {
        await expect(store.insertRaw!('rawbin', 'RowBinary', body, ['a', 'b'])).rejects.toThrow(/cannot insert RowBinary/);
      }
    });

    it('fails with a typed error carrying the ClickHouse code', async () => {
      const unknownTable = await store.query(sql`SELECT * FROM ${t('does_not_exist')}`).catch((e: unknown) => e);
      expect(unknownTable).toBeInstanceOf(StoreError);
      expect((unknownTable as StoreError).chCode).toBe(60);
      expect((unknownTable as StoreError).code).toBe('PP_ERR_STORE');
      expect((unknownTable as StoreError).transient).toBe(false);
      expect((unknownTable as StoreError).message).toMatch(/does_not_exist/);

      const syntax = await store.exec(raw('SELEC 1')).catch((e: unknown) => e);
      expect(syntax).toBeInstanceOf(StoreError);
      expect((syntax as StoreError).chCode).toBe(62);

      const badInsert = await store.insert('does_not_exist', [{ a: 1 }]).catch((e: unknown) => e);
      expect(badInsert).toBeInstanceOf(StoreError);
      expect((badInsert as StoreError).chCode).toBe(60);

      await store.exec(sql`CREATE TABLE IF NOT EXISTS ${t('typed')} (a UInt32) ENGINE = MergeTree() ORDER BY a`);
      const badValue = await store.insert('typed', [{ a: 'not a number' }]).catch((e: unknown) => e);
      expect(badValue).toBeInstanceOf(StoreError);
      expect((badValue as StoreError).chCode).toBeGreaterThan(0);
      const [n] = await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${t('typed')}`);
      expect(n!.n).toBe(0);

      await expect(store.insert('bad name', [{ a: 1 }])).rejects.toThrow(StoreError);
    });
  });
}
