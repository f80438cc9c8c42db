import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../core/bus/memory.ts';
import type { ReceivedMessage } from '../../core/bus/types.ts';
import { createStore } from '../../core/store/index.ts';
import type { Store } from '../../core/store/types.ts';
import { StoreError } from '../../core/store/errors.ts';
import { sql, ident } from '../../core/store/sql.ts';
import {
  encodeRecords,
  decodeRecords,
  flowRecord,
  probeRecord,
  schemaHeader,
  schemaId,
  type FlowRecord,
} from '../../core/records/index.ts';
import { createRegistry, metricValues } from '../../core/metrics.ts';
import { uniqueName } from '../../test/support/services.ts';
import { createSink } from './index.ts';
import { rowEncoder } from './encode.ts';

const flow = (i: number, extra: Partial<FlowRecord> = {}): FlowRecord => ({
  time_received: Date.now() - 60_000 + i,
  exporter: '127.0.1.1',
  format: 'netflow9',
  domain_id: 0,
  sequence: i,
  sampling_rate: 10,
  src_addr: '10.0.0.1',
  dst_addr: '10.1.0.1',
  protocol: 17,
  bytes: 100,
  packets: 1,
  site: 'nyc',
  link: 'l1',
  class: 'gold',
  ...extra,
});

/** A store that does what `store` does (its stop aside): tests replace the calls they make fail. */
function passThrough(store: Store): Store {
  return {
    ...store,
    kind: store.kind,
    database: store.database,
    rawFormats: store.rawFormats,
    start: () => store.start(),
    stop: async () => {},
    version: () => store.version(),
    capabilities: () => store.capabilities(),
    exec: (s) => store.exec(s),
    query: (s) => store.query(s),
    insert: (t, r) => store.insert(t, r),
    ping: () => store.ping(),
    insertRaw: (...args) => store.insertRaw!(...args),
  };
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}

describe('analytics sink on the in-process bus and chDB', () => {
  let store: Store;
  const count = async (table: string) =>
    (await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${ident(store.database)}.${ident(table)}`))[0]!.n;

  beforeAll(async () => {
    store = createStore({ kind: 'chdb', url: '', path: '', database: uniqueName('sink') });
    await store.start();
  });
  afterAll(async () => {
    await store.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`);
    await store.stop();
  });

  it('stores valid records exactly, dead-letters invalid ones with the reason, never blocks the partition', async () => {
    const bus = new MemoryBus({ retryBackoffMs: 10 });
    await bus.start();
    const registry = createRegistry();
    const topic = uniqueName('flows');
    const dlqTopic = uniqueName('dlq');
    const sink = createSink(
      { bus, store, registry },
      { topics: { flow: topic }, records: ['flow'], dead_letter_topic: dlqTopic, batch_rows: 250 },
    );
    await sink.start();
    const dead: ReceivedMessage[] = [];
    const dlqSub = await bus.subscribe({
      group: 'dlq',
      topics: [dlqTopic],
      fromBeginning: true,
      handler: async (b) => void dead.push(...b.messages),
    });
    const header = { [schemaHeader]: schemaId(flowRecord) };
    for (let m = 0; m < 10; m++) {
      await bus.publish(topic, [
        { key: 'e1', value: encodeRecords(Array.from({ length: 100 }, (_, i) => flow(m * 100 + i))), headers: header },
      ]);
    }
    await bus.publish(topic, [{ key: 'e1', value: Buffer.from('not msgpack at all'), headers: header }]);
    await bus.publish(topic, [
      { key: 'e1', value: encodeRecords([flow(5000), { ...flow(5001), protocol: 999 }, { nope: 1 }]), headers: header },
    ]);
    await bus.publish(topic, [{ key: 'e1', value: encodeRecords([flow(6000)]), headers: { [schemaHeader]: 'probe.v1' } }]);
    await bus.publish(topic, [{ key: 'e1', value: encodeRecords([flow(7000)]), headers: header }]);
    await waitFor(async () => (await count('flows_raw')) === 1002 && dead.length === 3);
    expect(await count('flows_raw')).toBe(1002);
    const [dup] = await store.query<{ n: number }>(sql`SELECT uniqExact(sequence) AS n FROM ${ident(store.database)}.flows_raw`);
    expect(dup!.n).toBe(1002);
    expect(dead.map((d) => d.headers['pp-dlq-reason']!.split(':')[0])).toEqual([
      'undecodable',
      'invalid flow record',
      'unexpected schema "probe.v1", this topic carries flow.v1',
    ]);
    expect(dead[1]!.headers['pp-dlq-reason']).toMatch(/protocol.*\(2 of 3 records\)/);
    expect(decodeRecords(dead[1]!.value)).toHaveLength(2);
    expect(dead[1]!.headers['pp-dlq-topic']).toBe(topic);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_sent_total']).toBe(1002);
    expect(m['pathpilot_analytics_sink_dead_lettered_total{reason="invalid"}']).toBe(1);
    expect(m['pathpilot_analytics_sink_dropped_total{reason="invalid"}']).toBe(2);
    expect(m['pathpilot_analytics_sink_dead_lettered_total{reason="undecodable"}']).toBe(1);
    expect(m['pathpilot_analytics_sink_dead_lettered_total{reason="schema"}']).toBe(1);
    expect(m['pathpilot_analytics_sink_inserts_total{table="flows_raw"}']).toBeGreaterThanOrEqual(5);
    // The rollups see the same rows. Records arrive renormalized (the decoder multiplies by the sampling
    // rate, ingest/flow/renormalize.ts): the rollup sums bytes as they are and never scales them again.
    const [r] = await store.query<{ b: number }>(sql`SELECT sum(bytes) AS b FROM ${ident(store.database)}.flows_1m`);
    expect(r!.b).toBe(1002 * 100);
    await dlqSub.stop();
    await sink.stop();
    await bus.stop();
  });

  it('retries while the store refuses inserts, pauses, and stores everything exactly once', async () => {
    const bus = new MemoryBus({ retryBackoffMs: 10 });
    await bus.start();
    let failures = 3;
    let ambiguous = 1;
    const flaky: Store = {
      ...passThrough(store),
      insertRaw: async (...args) => {
        if (failures > 0) {
          failures--;
          throw new StoreError('connect ECONNREFUSED', { transient: true });
        }
        if (ambiguous > 0) {
          // Stored, but the answer is lost (a timeout after the server accepted it).
          ambiguous--;
          await store.insertRaw!(...args);
          throw new StoreError('timeout', { transient: true });
        }
        return store.insertRaw!(...args);
      },
    };
    const registry = createRegistry();
    const topic = uniqueName('probes');
    const sink = createSink(
      { bus, store: flaky, registry },
      {
        topics: { probe: topic },
        records: ['probe'],
        dead_letter_topic: uniqueName('dlq'),
        retry_min_ms: 5,
        retry_max_ms: 20,
        migrate: true,
      },
    );
    await sink.start();
    const probe = (i: number) => ({
      window_start: Date.now() - 120_000 + i * 1000,
      window_end: Date.now() - 110_000 + i * 1000,
      src_site: 'a',
      dst_site: 'b',
      path_id: `p${i % 3}`,
      sent: 10,
      received: 10,
      loss_ratio: 0,
      rtt_min_ms: 1,
      rtt_avg_ms: 2,
      rtt_p50_ms: 2,
      rtt_p95_ms: 3,
      rtt_max_ms: 4,
      jitter_ms: 0.5,
    });
    for (let i = 0; i < 20; i++) await bus.publish(topic, [{ key: 'p', value: encodeRecords([probe(i), probe(i + 100)]) }]);
    await waitFor(async () => (await count('probes_raw')) >= 40);
    await new Promise((r) => setTimeout(r, 200));
    expect(await count('probes_raw')).toBe(40);
    const m = await metricValues(registry);
    expect(m['pathpilot_analytics_sink_insert_retries_total']).toBe(4);
    expect(m['pathpilot_analytics_sink_errors_total{error_type="store_unavailable"}']).toBe(4);
    await sink.stop();
    await bus.stop();
    expect(probeRecord.topic).toBe('pathpilot.probe.v1');
  });

  it('after an INSERT of unknown outcome, asks the mark before sending anything again, however long the store stays away', async () => {
    const bus = new MemoryBus({ retryBackoffMs: 10 });
    await bus.start();
    let ambiguous = 1;
    // Reads refused after the lost answer: the store is away, then comes back to an INSERT first.
    let readsRefused = 0;
    let insertsAfterLoss = 0;
    const flaky: Store = {
      ...passThrough(store),
      query: async (s) => {
        if (readsRefused > 0) {
          readsRefused--;
          throw new StoreError('connect ECONNREFUSED', { transient: true });
        }
        return store.query(s);
      },
      insertRaw: async (...args) => {
        if (ambiguous > 0) {
          ambiguous--;
          await store.insertRaw!(...args);
          readsRefused = 3;
          throw new StoreError('socket hang up', { transient: true });
        }
        insertsAfterLoss++;
        return store.insertRaw!(...args);
      },
    };
    const registry = createRegistry();
    const topic = uniqueName('flows');
    await store.exec(sql`TRUNCATE TABLE IF EXISTS ${ident(store.database)}.flows_raw`);
    const sink = createSink(
      { bus, store: flaky, registry },
      { topics: { flow: topic }, records: ['flow'], dead_letter_topic: uniqueName('dlq'), retry_min_ms: 5, retry_max_ms: 20 },
    );
    await sink.start();
    await bus.publish(topic, [{ key: 'e', value: encodeRecords(Array.from({ length: 50 }, (_, i) => flow(90_000 + i))) }]);
    await waitFor(async () => readsRefused === 0 && (await count('flows_raw')) >= 50);
    await new Promise((r) => setTimeout(r, 200));
    expect(await count('flows_raw')).toBe(50);
    expect(insertsAfterLoss).toBe(0);
    const m = await metricValues(registry);
    // The lost answer and the three refused reads.
    expect(m['pathpilot_analytics_sink_insert_retries_total']).toBe(4);
    await sink.stop();
    await bus.stop();
  });
});

describe('row encoder', () => {
  it('escapes TSV specials and fills defaults', () => {
    const enc = rowEncoder(flowRecord);
    const line = enc.encode(flow(1, { site: 'a\tb\\c\nd' }) as unknown as Record<string, unknown>, 3, '42');
    const cells = line.trimEnd().split('\t');
    expect(cells).toHaveLength(enc.columns.length);
    expect(cells[enc.columns.indexOf('site')]).toBe('a\\tb\\\\c\\nd');
    expect(cells[enc.columns.indexOf('src_port')]).toBe('0');
    expect(cells.slice(-2)).toEqual(['3', '42']);
  });
});

describe('fast record check', () => {
  it('accepts and refuses exactly what the zod schema does on a range of inputs', () => {
    const enc = rowEncoder(flowRecord);
    const good = flow(1);
    const cases: unknown[] = [
      good,
      { ...good, protocol: 256 },
      { ...good, protocol: 1.5 },
      { ...good, bytes: -1 },
      { ...good, bytes: Number.MAX_SAFE_INTEGER + 2 },
      { ...good, format: 'netflow7' },
      { ...good, src_port: undefined },
      { ...good, src_port: 'x' },
      { ...good, site: 5 },
      { ...good, exporter: 'x'.repeat(46) },
      { ...good, time_received: undefined },
      { ...good, extra: 'ignored' },
      null,
      [],
      'str',
    ];
    for (const c of cases) expect(enc.valid(c)).toBe(flowRecord.check(c).ok);
  });
});
