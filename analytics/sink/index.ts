import type { Bus, MessageBatch, ReceivedMessage, Subscription } from '../../core/bus/types.ts';
import type { Store } from '../../core/store/types.ts';
import { z } from 'zod';
import type { Component } from '../../core/component.ts';
import { memoizeStop, parseSection } from '../../core/component.ts';
import type { Clock } from '../../core/clock.ts';
import { RealClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { rateLimitedLogger } from '../../core/log.ts';
import { createRegistry, type Registry } from '../../core/metrics.ts';
import { errorMessage, PathpilotError } from '../../core/errors.ts';
import {
  decodeRecords,
  encodeRecords,
  recordDefinitions,
  schemaHeader,
  schemaId,
  type FieldMap,
  type RecordDefinition,
  type RecordName,
} from '../../core/records/index.ts';
import { sql, ident } from '../../core/store/sql.ts';
import { StoreError } from '../../core/store/errors.ts';
import type { RawBody } from '../../core/store/common.ts';
import { retentionSchema, sinkSchema, type SinkConfig, type RetentionConfig } from '../config.ts';
import { migrate } from '../schema/converge.ts';
import { offsetSpaceSize, rawTableOf } from '../schema/tables.ts';
import { rowEncoder, type RowEncoder } from './encode.ts';
import { RowBinaryWriter } from './rowbinary.ts';
import { createSinkMetrics, type SinkMetrics } from './metrics.ts';

export { rowEncoder } from './encode.ts';
export { createSinkMetrics, type SinkMetrics } from './metrics.ts';

/**
 * Kafka → ClickHouse. One subscription (consumer group `<group>.<record>`) per record topic; each
 * batch the bus hands over is decoded, validated, encoded as TSV and inserted in one INSERT, and
 * the handler resolves (so the bus commits the offsets) only after ClickHouse accepted it.
 *
 * Exactly-once on 18.16 and chDB without FINAL: every raw row carries its Kafka partition and
 * offset, and a materialized view records the highest offset per table and partition in
 * `sink_offsets` within the same INSERT. An INSERT is one block, so it is stored entirely or not at
 * all; after a crash or an ambiguous failure the sink reads the high-water mark back and skips
 * messages at or below it. Invalid messages and records go to the dead-letter topic (with the
 * reason in headers) before the batch commits; they never block the partition.
 */
export interface SinkDeps {
  bus: Bus;
  store: Store;
  registry?: Registry;
  log?: Logger;
  clock?: Clock;
}

/**
 * What `createSink` parses, once: the `analytics.sink` keys, the `analytics.retention` the schema
 * converges to, and the wiring a composition root or a test chooses (topics, migrate, fromBeginning).
 */
export const sinkInputSchema = sinkSchema.extend({
  topics: z.partialRecord(z.enum(['flow', 'probe', 'iface', 'cost', 'change']), z.string().min(1)).optional(),
  migrate: z.boolean().default(true),
  retention: retentionSchema.partial().optional(),
  fromBeginning: z.boolean().default(true),
});

export interface SinkOptions extends Partial<SinkConfig> {
  /** Topic per record kind (tests use their own); default `pathpilot.<name>.v<version>`. */
  topics?: Partial<Record<RecordName, string>>;
  /** Converge the schema at start (default true). */
  migrate?: boolean;
  retention?: Partial<RetentionConfig>;
  /** Start from the earliest offset when the group has no commit (default true: nothing is missed). */
  fromBeginning?: boolean;
}

export interface Sink extends Component {
  readonly metrics: SinkMetrics;
  /** Rows stored by this sink instance since start, per table. */
  stored(): Record<string, number>;
}

interface PartitionState {
  /** Highest (stored-space) offset whose rows are known to be stored. */
  high: bigint;
  /**
   * Added to bus offsets before they are stored. 0 for Kafka; for the in-process bus, whose offsets
   * restart at 0 in every process, the stored mark + 1 at first sight, so stored offsets keep growing.
   */
  base: bigint;
  /** Next offset expected; a batch starting elsewhere (redelivery, handover) re-reads the mark. */
  next: bigint | undefined;
}

interface Pipeline {
  record: RecordName;
  def: RecordDefinition<FieldMap>;
  table: string;
  topic: string;
  expectedSchema: string;
  encoder: RowEncoder;
  /** Offset space of the topic (see offsetSpaceSize). */
  space: bigint;
  partitions: Map<number, PartitionState>;
  subscriptions: Subscription[];
}

const spaceSize = BigInt(offsetSpaceSize);

interface DeadLetterItem {
  offset: string;
  reason: string;
  value: Buffer;
  key?: string;
}

/** One INSERT: the rows of consecutive messages [first, last] (stored offsets). */
interface Chunk {
  body: RawBody;
  rows: number;
  first: bigint;
  last: bigint;
  messages: ReceivedMessage[];
}

/** 20-bit FNV-1a hash of a topic name: its offset space (stored offsets stay below 2^60). */
export function topicSpace(topic: string): bigint {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return BigInt(h & 0xfffff);
}

/** Errors that mean the schema is missing or behind (retry after `pathpilot migrate`), not bad data. */
const schemaProblemCodes = new Set([16, 47, 60, 81]);

/** Inert: parses its input (a SinkOptions object) once; `start()` migrates and subscribes. */
export function createSink(deps: SinkDeps, input: unknown = {}): Sink {
  const {
    topics,
    migrate: doMigrate,
    retention,
    fromBeginning,
    ...config
  } = parseSection(sinkInputSchema, input, 'analytics.sink');
  const clock = deps.clock ?? new RealClock();
  const metrics = createSinkMetrics(deps.registry ?? createRegistry());
  const warn = deps.log ? rateLimitedLogger(deps.log) : () => {};
  const { bus, store } = deps;
  const storedRows: Record<string, number> = {};
  // RowBinary where the store takes it (the server): nothing to format or parse as text.
  const format = store.rawFormats.includes('RowBinary') ? 'RowBinary' : 'TabSeparated';
  const stopSignal = new AbortController();
  let started = false;

  const pipelines: Pipeline[] = config.records.map((record) => {
    const def = recordDefinitions[record] as unknown as RecordDefinition<FieldMap>;
    return {
      record,
      def,
      table: rawTableOf[record],
      topic: topics?.[record] ?? def.topic,
      expectedSchema: schemaId(def),
      encoder: rowEncoder(def),
      space: topicSpace(topics?.[record] ?? def.topic),
      partitions: new Map(),
      subscriptions: [],
    };
  });

  /** Reads the stored high-water mark of a table and partition (-1 when nothing is stored). */
  async function readHighWater(p: Pipeline, partition: number): Promise<bigint> {
    const rows = await store.query<{ m: string | number }>(
      sql`SELECT toString(max(max_offset)) AS m, count() AS n FROM ${ident(store.database)}.${ident('sink_offsets')}
          WHERE tbl = ${p.table} AND src_partition = ${partition} AND space = ${Number(p.space)} HAVING n > 0`,
    );
    return rows.length > 0 ? BigInt(String(rows[0]!.m)) : p.space * spaceSize - 1n;
  }

  async function deadLetter(p: Pipeline, batch: MessageBatch, items: DeadLetterItem[]) {
    if (items.length === 0) return;
    await bus.publish(
      config.dead_letter_topic,
      items.map((i) => ({
        key: i.key,
        value: i.value,
        headers: {
          'pp-dlq-reason': i.reason.slice(0, 1000),
          'pp-dlq-topic': batch.topic,
          'pp-dlq-partition': String(batch.partition),
          'pp-dlq-offset': i.offset,
          'pp-dlq-table': p.table,
        },
      })),
    );
    for (const i of items)
      metrics.deadLettered.inc({
        reason:
          i.reason.split(/[ :]/)[0]! === 'invalid'
            ? 'invalid'
            : i.reason.startsWith('rejected')
              ? 'rejected'
              : i.reason.startsWith('unexpected')
                ? 'schema'
                : 'undecodable',
      });
  }

  async function insertWithRetry(
    p: Pipeline,
    body: RawBody,
    partition: number,
    firstOffset: bigint,
  ): Promise<{ outcome: 'inserted' | 'already-stored' } | { outcome: 'rejected'; reason: string }> {
    let attempt = 0;
    const deadline = clock.now() + 20_000;
    for (;;) {
      const t0 = performance.now();
      try {
        if (store.insertRaw) await store.insertRaw(p.table, format, body, p.encoder.columns);
        else throw new PathpilotError('PP_ERR_STORE', 'store has no insertRaw');
        metrics.insertSeconds.observe({ table: p.table }, (performance.now() - t0) / 1000);
        if (attempt > 0) for (const s of pipelines) for (const sub of s.subscriptions) sub.resume();
        return { outcome: 'inserted' };
      } catch (err) {
        attempt++;
        if (err instanceof StoreError && !err.transient && err.chCode !== undefined && !schemaProblemCodes.has(err.chCode)) {
          // ClickHouse refuses this data (it passed validation, so the schema and records disagree):
          // the messages go to the dead-letter topic instead of blocking the partition.
          metrics.errors.inc({ error_type: 'rejected' });
          warn(
            `rejected:${p.table}`,
            { err: errorMessage(err), table: p.table },
            'clickhouse rejected a batch; dead-lettering it',
          );
          return { outcome: 'rejected', reason: `rejected by ClickHouse: ${errorMessage(err)}` };
        }
        metrics.errors.inc({ error_type: err instanceof StoreError && err.transient ? 'store_unavailable' : 'store' });
        metrics.retries.inc();
        warn(`insert:${p.table}`, { err: errorMessage(err), table: p.table, attempt }, 'clickhouse insert failed; retrying');
        // Backpressure: stop fetching everywhere while ClickHouse refuses writes.
        for (const s of pipelines) for (const sub of s.subscriptions) sub.pause();
        if (stopSignal.signal.aborted || clock.now() > deadline) throw err;
        const delay = Math.min(config.retry_max_ms, config.retry_min_ms * 2 ** Math.min(attempt - 1, 10));
        await clock.sleep(delay, stopSignal.signal).catch(() => undefined);
        if (stopSignal.signal.aborted) throw err;
        // The failed INSERT may have been stored after all (timeout after the server accepted it).
        try {
          const high = await readHighWater(p, partition);
          if (high >= firstOffset) {
            for (const s of pipelines) for (const sub of s.subscriptions) sub.resume();
            return { outcome: 'already-stored' };
          }
        } catch {
          // Still down: retry the insert after the next backoff.
        }
      }
    }
  }

  async function handle(p: Pipeline, batch: MessageBatch): Promise<void> {
    let state = p.partitions.get(batch.partition);
    const first = batch.messages[0];
    if (!first) return;
    if (!state || state.next !== BigInt(first.offset) + state.base) {
      // First batch of this partition, a redelivery, or a handover from another sink: the stored
      // mark is the truth.
      const high = await readHighWater(p, batch.partition);
      const base = state ? state.base : bus.kind === 'kafka' ? p.space * spaceSize : high + 1n;
      state = { high, base, next: undefined };
      p.partitions.set(batch.partition, state);
    }
    // INSERTs of at most batch_rows rows, split at message boundaries, in offset order. A chunk's
    // INSERT runs while the next chunk is decoded and encoded (the INSERTs themselves stay strictly
    // sequential: the mark is the highest stored offset, so a later chunk must never land before an
    // earlier one). Each message's rows become a Buffer at once, so the body never exists as one
    // huge string on the JS heap (GC was ~40% of the sink's CPU with a string body); RowBinary rows
    // go straight into the writer's blocks.
    // Any failure from here on: the batch is redelivered, and the mark is read back first.
    state.next = undefined;
    const st = state;
    const binary = format === 'RowBinary' ? new RowBinaryWriter() : undefined;
    let parts: Buffer[] = [];
    let rows = 0;
    let chunkFirst: bigint | undefined;
    let chunkMessages: ReceivedMessage[] = [];
    let dlq: DeadLetterItem[] = [];
    let lastOffset = -1n;
    let oldest = Infinity;
    let inserted = 0;
    let pending: Promise<void> = Promise.resolve();
    let sinceYield = 0;

    const storeChunk = async (chunk: Chunk, chunkDlq: DeadLetterItem[]): Promise<void> => {
      // Dead letters first: if the process dies after the INSERT, the redelivered batch skips the
      // chunk's messages, so they must already be in the dead-letter topic.
      if (chunkDlq.length > 0) await deadLetter(p, batch, chunkDlq);
      if (chunk.rows === 0) return;
      const result = await insertWithRetry(p, chunk.body, batch.partition, chunk.first);
      if (result.outcome === 'rejected') {
        await deadLetter(
          p,
          batch,
          chunk.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value, reason: result.reason })),
        );
      }
      if (chunk.last > st.high) st.high = chunk.last;
      if (result.outcome === 'inserted') {
        metrics.sent.inc(chunk.rows);
        metrics.rowsInserted.inc({ table: p.table }, chunk.rows);
        metrics.inserts.inc({ table: p.table });
        storedRows[p.table] = (storedRows[p.table] ?? 0) + chunk.rows;
        inserted++;
      }
    };
    /** Queues the chunk built so far behind the previous one's INSERT. */
    const seal = async (last: bigint): Promise<void> => {
      const chunk: Chunk = {
        body: binary ? binary.take() : parts.length === 1 ? parts[0]! : Buffer.concat(parts),
        rows,
        first: chunkFirst ?? last,
        last,
        messages: chunkMessages,
      };
      const chunkDlq = dlq;
      parts = [];
      rows = 0;
      chunkFirst = undefined;
      chunkMessages = [];
      dlq = [];
      const previous = pending;
      pending = previous.then(() => storeChunk(chunk, chunkDlq));
      // Handled where it is awaited (below or at the end); this only keeps an early exit from
      // leaving it as an unhandled rejection.
      pending.catch(() => undefined);
      // Keep at most one INSERT queued behind the one in flight (bounded memory); a failure
      // surfaces here and fails the batch.
      await previous;
    };

    for (const m of batch.messages) {
      const offset = BigInt(m.offset) + st.base;
      lastOffset = offset;
      if (offset <= st.high) {
        metrics.dropped.inc({ reason: 'duplicate' });
        continue;
      }
      if (rows >= config.batch_rows) await seal(offset - 1n);
      chunkFirst ??= offset;
      chunkMessages.push(m);
      const header = m.headers[schemaHeader];
      if (header !== undefined && header !== p.expectedSchema) {
        dlq.push({
          offset: m.offset,
          key: m.key,
          value: m.value,
          reason: `unexpected schema "${header}", this topic carries ${p.expectedSchema}`,
        });
        continue;
      }
      let records: unknown[];
      try {
        records = decodeRecords(m.value);
      } catch (err) {
        dlq.push({ offset: m.offset, key: m.key, value: m.value, reason: `undecodable: ${errorMessage(err)}` });
        continue;
      }
      metrics.received.inc(records.length);
      const offsetText = binary ? '' : offset.toString();
      const offsetLow = Number(offset & 0xffffffffn);
      const offsetHigh = Number(offset >> 32n);
      let body = '';
      let invalid: unknown[] | undefined;
      let reason = '';
      const add = (r: Record<string, unknown>): void => {
        if (binary) p.encoder.writeRow(binary, r, batch.partition, offsetLow, offsetHigh);
        else body += p.encoder.encode(r, batch.partition, offsetText);
        rows++;
      };
      for (const r of records) {
        if (p.encoder.valid(r)) {
          add(r as Record<string, unknown>);
          continue;
        }
        // The fast check refused it: zod says why (and is the authority if they ever disagree).
        const checked = p.def.check(r);
        if (checked.ok) add(checked.record as Record<string, unknown>);
        else {
          (invalid ??= []).push(r);
          reason ||= checked.reason;
        }
      }
      if (body.length > 0) parts.push(Buffer.from(body));
      if (invalid) {
        metrics.dropped.inc({ reason: 'invalid' }, invalid.length);
        dlq.push({
          offset: m.offset,
          key: m.key,
          value: encodeRecords(invalid as object[]),
          reason: `${reason} (${invalid.length} of ${records.length} records)`,
        });
      }
      if (m.timestamp < oldest) oldest = m.timestamp;
      // Let the in-flight INSERT's body reach the socket while this chunk is being built.
      sinceYield += records.length;
      if (sinceYield >= 5_000) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (rows > 0 || dlq.length > 0) await seal(lastOffset);
    await pending;
    if (inserted > 0 && Number.isFinite(oldest))
      metrics.lagSeconds.observe({ table: p.table }, Math.max(0, Date.now() - oldest) / 1000);
    if (lastOffset > state.high) state.high = lastOffset;
    state.next = lastOffset + 1n;
  }

  const stop = memoizeStop(async () => {
    stopSignal.abort();
    await Promise.allSettled(pipelines.flatMap((p) => p.subscriptions.map((sub) => sub.stop())));
    started = false;
  });

  return {
    name: 'analytics/sink',
    metrics,
    stored: () => ({ ...storedRows }),
    async start() {
      if (started) return;
      if (doMigrate) await migrate(store, { retention, log: deps.log });
      await bus.ensureTopics([{ topic: config.dead_letter_topic }]);
      for (const p of pipelines) {
        // Several consumers in one group split a topic's partitions, so one batch is decoded while
        // another is being inserted (Kafka only; the in-process bus has one consumer per group).
        // They subscribe together so they join the group in one generation: one after the other,
        // each join forces a rebalance the earlier consumers only notice at their next heartbeat
        // (seconds of idle partitions at every start).
        const consumers = bus.kind === 'kafka' && p.record === 'flow' ? config.flow_consumers : 1;
        const subscribing = Array.from({ length: consumers }, () =>
          bus.subscribe({
            group: `${config.group}.${p.record}`,
            topics: [p.topic],
            fromBeginning,
            maxBatchMessages: config.max_batch_messages,
            handler: (batch) => handle(p, batch),
          }),
        );
        const settled = await Promise.allSettled(subscribing);
        for (const r of settled) if (r.status === 'fulfilled') p.subscriptions.push(r.value);
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      started = true;
      deps.log?.info({ topics: pipelines.map((p) => p.topic), store: store.kind }, 'analytics sink started');
    },
    stop,
  };
}
