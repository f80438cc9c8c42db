import type { Bus, MessageBatch, ReceivedMessage, Subscription } from '../../core/bus/types.ts';
import type { Store } from '../../core/store/types.ts';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Component } from '../../core/component.ts';
import { memoizeStop, parseSection } from '../../core/component.ts';
import type { Clock } from '../../core/clock.ts';
import { RealClock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { rateLimitedLogger } from '../../core/log.ts';
import { createRegistry, type Registry } from '../../core/metrics.ts';
import { errorMessage } from '../../core/errors.ts';
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
import { StoreError } from '../../core/store/errors.ts';
import { sql } from '../../core/store/sql.ts';
import type { RawBody, RawFormat } from '../../core/store/common.ts';
import {
  clusterSchema,
  retentionSchema,
  sinkSchema,
  type ClusterConfig,
  type SinkConfig,
  type RetentionConfig,
} from '../config.ts';
import { migrate } from '../schema/converge.ts';
import { offsetSpaceSize, rawTableOf, tableDefs } from '../schema/tables.ts';
import { InsertCombiner, joinBodies } from './combine.ts';
import { clusterTarget, replicaFailureCodes, singleTarget, type SinkTarget } from './shards.ts';
import { rowEncoder, type RowEncoder } from './encode.ts';
import { BlockPool, RowBinaryWriter } from './rowbinary.ts';
import { NativeBlockWriter, nativeLayout, type NativeColumn } from './native.ts';
import { transcoder, type Transcoder } from './transcode.ts';
import { createSinkMetrics, type SinkMetrics } from './metrics.ts';

export { rowEncoder } from './encode.ts';
export { createSinkMetrics, type SinkMetrics } from './metrics.ts';

/**
 * Kafka → ClickHouse. One subscription (consumer group `<group>.<record>`) per record topic; each
 * batch the bus hands over is decoded, validated, encoded (Native on one server, RowBinary on a
 * cluster's shards, TSV for chDB) and inserted in INSERTs of at most `batch_rows` rows, and the
 * handler resolves (so the bus commits the offsets) only after ClickHouse accepted them.
 *
 * Exactly-once on 18.16 and chDB without FINAL: every raw row carries its Kafka partition and
 * offset, and a materialized view records the highest offset per table and partition in
 * `sink_offsets` within the same INSERT. An INSERT is one block, so it is stored entirely or not at
 * all; after a crash or an ambiguous failure the sink reads the high-water mark back and skips
 * messages at or below it. Invalid messages and records go to the dead-letter topic (with the
 * reason in headers) before the batch commits; they never block the partition.
 *
 * On a ClickHouse cluster (`cluster`) the same holds per shard: each row goes to the shard its
 * table's shard key (site…) hashes to, one INSERT per shard (shards.ts), the mark is kept per
 * shard, and after a failure each shard skips only what it has. An INSERT whose outcome is unknown
 * is repeated byte for byte, on the shard's next replica if need be: the replicated tables drop a
 * block they already have (docs/notes/analytics.md "Cluster").
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
  /** `analytics.store.cluster`: write the cluster's shards (the schema converges ON CLUSTER). */
  cluster: clusterSchema.optional(),
});

export interface SinkOptions extends Partial<SinkConfig> {
  /** Topic per record kind (tests use their own); default `pathpilot.<name>.v<version>`. */
  topics?: Partial<Record<RecordName, string>>;
  /** Converge the schema at start (default true). */
  migrate?: boolean;
  retention?: Partial<RetentionConfig>;
  /** Start from the earliest offset when the group has no commit (default true: nothing is missed). */
  fromBeginning?: boolean;
  /** A ClickHouse cluster: its name and shards (`analytics.store.cluster`). */
  cluster?: ClusterConfig;
}

export interface Sink extends Component {
  readonly metrics: SinkMetrics;
  /** Rows stored by this sink instance since start, per table. */
  stored(): Record<string, number>;
}

interface PartitionState {
  /** Per shard: highest (stored-space) offset whose rows are known to be stored there. */
  high: bigint[];
  /**
   * Added to bus offsets before they are stored. 0 for Kafka; for the in-process bus, whose offsets
   * restart at 0 in every process, the stored mark + 1 at first sight, so stored offsets keep growing.
   */
  base: bigint;
  /** Next offset expected; a batch starting elsewhere (redelivery, handover) re-reads the mark. */
  next: bigint | undefined;
  /**
   * Cluster: per-shard INSERTs whose outcome is still unknown after the retries gave up. Repeated
   * byte for byte before anything else of the partition (a redelivered batch is cut differently,
   * so only the same bytes are recognised by the replicas that may already have them).
   */
  unsettled: ShardChunk[];
}

interface Pipeline {
  record: RecordName;
  def: RecordDefinition<FieldMap>;
  table: string;
  topic: string;
  expectedSchema: string;
  encoder: RowEncoder;
  /** The encoder's fast path for whole messages (RowBinary and Native only). */
  transcoder: Transcoder;
  /**
   * The INSERT format: Native on one server whose raw table has the types the fields' bytes are
   * (`native` then holds its columns), else RowBinary on a server, TSV on chDB. Settled once the
   * table's types could be read (`formatSettled`: at start, else before a later batch).
   */
  format: RawFormat;
  native: NativeColumn[] | undefined;
  formatSettled: boolean;
  /** Offset space of the topic (see offsetSpaceSize). */
  space: bigint;
  /** The record field whose value picks a row's shard (its table's shard key). */
  shardKey: string;
  partitions: Map<number, PartitionState>;
  subscriptions: Subscription[];
  /** One server or chDB: the INSERTs of batches handled side by side, joined (combine.ts). */
  combiner: InsertCombiner<InsertResult> | undefined;
}

const spaceSize = BigInt(offsetSpaceSize);

interface DeadLetterItem {
  offset: string;
  reason: string;
  value: Buffer;
  key?: string;
}

/** One shard's rows of a chunk: one INSERT. */
interface ShardChunk {
  shard: number;
  format: RawFormat;
  body: RawBody;
  rows: number;
  first: bigint;
}

type InsertResult = { outcome: 'inserted' | 'already-stored' } | { outcome: 'rejected'; reason: string };

/** The rows of consecutive messages [first, last] (stored offsets): one INSERT per shard that has rows. */
interface Chunk {
  shards: ShardChunk[];
  rows: number;
  first: bigint;
  last: bigint;
  messages: ReceivedMessage[];
}

function lowest(values: readonly bigint[]): bigint {
  let min = values[0]!;
  for (const v of values) if (v < min) min = v;
  return min;
}

function highest(values: readonly bigint[]): bigint {
  let max = values[0]!;
  for (const v of values) if (v > max) max = v;
  return max;
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
    cluster,
    ...config
  } = parseSection(sinkInputSchema, input, 'analytics.sink');
  const clock = deps.clock ?? new RealClock();
  const metrics = createSinkMetrics(deps.registry ?? createRegistry());
  const warn = deps.log ? rateLimitedLogger(deps.log) : () => {};
  const { bus, store } = deps;
  const target: SinkTarget = cluster ? clusterTarget(cluster, store.database) : singleTarget(store);
  const shardKeys = new Map(tableDefs().map((t) => [t.name, t.shardKey]));
  const storedRows: Record<string, number> = {};
  // RowBinary where the store takes it (the server): nothing to format or parse as text. Native
  // instead, where it can be, is settled at start (nativeFormat).
  const format = store.rawFormats.includes('RowBinary') ? 'RowBinary' : 'TabSeparated';
  const stopSignal = new AbortController();
  // Body blocks go round between the writers and the INSERTs instead of being new Buffers: 1 MiB
  // ones for RowBinary bodies, 256 KiB ones for Native columns (at least one per column and INSERT).
  const rowBlocks = new BlockPool();
  const columnBlocks = new BlockPool(256 * 1024, 256);
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
      transcoder: transcoder(def),
      format,
      native: undefined,
      formatSettled: false,
      space: topicSpace(topics?.[record] ?? def.topic),
      shardKey: shardKeys.get(rawTableOf[record])!,
      partitions: new Map(),
      subscriptions: [],
      combiner: undefined,
    };
  });
  if (!target.clustered)
    for (const p of pipelines)
      p.combiner = new InsertCombiner<InsertResult>({
        maxRows: config.batch_rows,
        windowMs: config.combine_window_ms,
        write: async (pieces) => {
          const [head] = pieces;
          const several = pieces.length > 1;
          // One block: its first piece's mark says whether it is stored (see insertWithRetry).
          const result = await insertWithRetry(
            p,
            { shard: 0, format: head!.format, body: joinBodies(pieces) },
            head!.partition,
            head!.first,
            several && head!.format === 'Native',
          );
          if (result.outcome !== 'rejected' || !several) return pieces.map(() => result);
          // ClickHouse refused the joined rows: each piece alone, so only the batch at fault is
          // dead-lettered.
          const alone: InsertResult[] = [];
          for (const piece of pieces) alone.push(await insertWithRetry(p, { shard: 0, ...piece }, piece.partition, piece.first));
          return alone;
        },
      });

  /** Reads the stored high-water mark of a table and partition on a shard (below the space when nothing is stored). */
  async function readHighWater(p: Pipeline, shard: number, partition: number): Promise<bigint> {
    const mark = await target.readMark(shard, p.table, partition, Number(p.space));
    return mark ?? p.space * spaceSize - 1n;
  }

  /**
   * Native for a pipeline when the sink writes one server that takes it and the raw table's columns
   * have exactly the types its fields' bytes are; RowBinary (or TSV) otherwise, as before.
   */
  async function settleFormat(p: Pipeline): Promise<void> {
    if (format !== 'RowBinary' || target.clustered || !store.rawFormats.includes('Native')) {
      p.formatSettled = true;
      return;
    }
    try {
      const columns = await store.query<{ name: string; type: string }>(
        sql`SELECT name, type FROM system.columns WHERE database = ${store.database} AND table = ${p.table}`,
      );
      p.native = nativeLayout(p.def, new Map(columns.map((c) => [c.name, c.type])));
      if (p.native) p.format = 'Native';
      p.formatSettled = true;
    } catch (err) {
      // ClickHouse unreachable at start: RowBinary meanwhile, asked again before the next batch.
      warn(`format:${p.table}`, { err: errorMessage(err), table: p.table }, 'cannot read the raw table types yet');
    }
  }

  /** The marks of every shard. */
  function readHighWaters(p: Pipeline, partition: number): Promise<bigint[]> {
    return Promise.all(Array.from({ length: target.shards }, (_, shard) => readHighWater(p, shard, partition)));
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
    { shard, format: bodyFormat, body }: Pick<ShardChunk, 'shard' | 'format' | 'body'>,
    partition: number,
    firstOffset: bigint,
    severalBlocks = false,
  ): Promise<InsertResult> {
    let attempt = 0;
    const deadline = clock.now() + 20_000;
    const resumeAll = (): void => {
      for (const s of pipelines) for (const sub of s.subscriptions) sub.resume();
    };
    /** The last failure, thrown when the retries run out. */
    let failure: unknown;
    // After a failed INSERT on one server the block may be stored after all (the connection broke
    // after the server had the whole body). Until the mark says otherwise nothing is sent again:
    // an INSERT that reached the server first, once it answered again, would store the block twice.
    let unsure = false;
    /** The server's name of the last INSERT sent. */
    let queryId = '';
    const failed = (err: unknown): void => {
      failure = err;
      attempt++;
      metrics.errors.inc({ error_type: err instanceof StoreError && err.transient ? 'store_unavailable' : 'store' });
      metrics.retries.inc();
      // Backpressure: stop fetching everywhere while ClickHouse refuses writes.
      for (const s of pipelines) for (const sub of s.subscriptions) sub.pause();
    };
    for (;;) {
      if (!unsure) {
        const t0 = performance.now();
        queryId = randomUUID();
        try {
          await target.insert(shard, p.table, bodyFormat, body, p.encoder.columns, { queryId, severalBlocks });
          metrics.insertSeconds.observe({ table: p.table }, (performance.now() - t0) / 1000);
          metrics.inserts.inc({ table: p.table });
          if (attempt > 0) resumeAll();
          return { outcome: 'inserted' };
        } catch (err) {
          if (
            err instanceof StoreError &&
            !err.transient &&
            err.chCode !== undefined &&
            !schemaProblemCodes.has(err.chCode) &&
            !replicaFailureCodes.has(err.chCode)
          ) {
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
          failed(err);
          warn(`insert:${p.table}`, { err: errorMessage(err), table: p.table, attempt }, 'clickhouse insert failed; retrying');
          // On a cluster the same block goes again (the next replica drops what it already has: the
          // views that committed before a replica died keep their block, the others get it). A mark
          // alone cannot say that every view of the block committed.
          unsure = !target.clustered;
        }
      }
      if (stopSignal.signal.aborted || clock.now() > deadline) throw failure;
      const delay = Math.min(config.retry_max_ms, config.retry_min_ms * 2 ** Math.min(attempt - 1, 10));
      await clock.sleep(delay, stopSignal.signal).catch(() => undefined);
      if (stopSignal.signal.aborted) throw failure;
      if (!unsure) continue;
      try {
        // The server may still be writing the block its client gave up on: the mark says nothing
        // until that INSERT is over.
        if (await target.running(shard, queryId)) continue;
        const high = await readHighWater(p, shard, partition);
        if (high >= firstOffset) {
          resumeAll();
          return { outcome: 'already-stored' };
        }
        unsure = false;
      } catch (err) {
        // Still down: ask again after the next backoff.
        failed(err);
      }
    }
  }

  async function handle(p: Pipeline, batch: MessageBatch): Promise<void> {
    // While it reads rows, a batch may add a piece to an INSERT the combiner holds for it.
    p.combiner?.enter();
    try {
      await handleBatch(p, batch);
    } finally {
      p.combiner?.leave();
    }
  }

  /** Awaits a batch's own INSERTs: it reads no rows meanwhile, so the combiner need not wait for it. */
  async function awaitInserts(p: Pipeline, inserts: Promise<void>): Promise<void> {
    p.combiner?.leave();
    try {
      await inserts;
    } finally {
      p.combiner?.enter();
    }
  }

  async function handleBatch(p: Pipeline, batch: MessageBatch): Promise<void> {
    let state = p.partitions.get(batch.partition);
    const first = batch.messages[0];
    if (!first) return;
    if (state && state.unsettled.length > 0) {
      // A failed batch left INSERTs of unknown outcome: the same bytes again first (then the marks are exact).
      while (state.unsettled.length > 0) {
        const u = state.unsettled[0]!;
        const result = await insertWithRetry(p, u, batch.partition, u.first);
        if (result.outcome === 'inserted') metrics.sent.inc(u.rows);
        state.unsettled.shift();
      }
      state.next = undefined;
    }
    if (!state || state.next !== BigInt(first.offset) + state.base) {
      // First batch of this partition, a redelivery, or a handover from another sink: the stored
      // mark is the truth.
      const high = await readHighWaters(p, batch.partition);
      const base = state ? state.base : bus.kind === 'kafka' ? p.space * spaceSize : highest(high) + 1n;
      state = { high, base, next: undefined, unsettled: [] };
      p.partitions.set(batch.partition, state);
    }
    // INSERTs of at most batch_rows rows, split at message boundaries, in offset order. A chunk's
    // INSERT runs while the next chunk is decoded and encoded (the INSERTs themselves stay strictly
    // sequential: the mark is the highest stored offset, so a later chunk must never land before an
    // earlier one). Each message's rows become a Buffer at once, so the body never exists as one
    // huge string on the JS heap (GC was ~40% of the sink's CPU with a string body); Native columns
    // and RowBinary rows go straight into the writers' blocks, which come back after the INSERT.
    // Any failure from here on: the batch is redelivered, and the mark is read back first.
    state.next = undefined;
    const st = state;
    const shards = target.shards;
    if (!p.formatSettled) await settleFormat(p);
    // The whole batch in one format (another batch of the pipeline may run meanwhile).
    const batchFormat = p.format;
    const binary = batchFormat === 'RowBinary' ? Array.from({ length: shards }, () => new RowBinaryWriter(rowBlocks)) : undefined;
    // Native: one server, so one block of columns.
    const native = batchFormat === 'Native' ? new NativeBlockWriter(p.native!, columnBlocks) : undefined;
    let parts: Buffer[][] = Array.from({ length: shards }, () => []);
    let shardRows: number[] = new Array<number>(shards).fill(0);
    let shardFirst: (bigint | undefined)[] = new Array<bigint | undefined>(shards).fill(undefined);
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
      // Shards are written side by side; all of them settle before a failure fails the batch, so no
      // INSERT is still running when the redelivered batch reads the marks back.
      const settled = await Promise.allSettled(
        chunk.shards.map((sc) =>
          p.combiner
            ? p.combiner.submit({ format: sc.format, body: sc.body, rows: sc.rows, partition: batch.partition, first: sc.first })
            : insertWithRetry(p, sc, batch.partition, sc.first),
        ),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        if (target.clustered) settled.forEach((r, i) => r.status === 'rejected' && st.unsettled.push(chunk.shards[i]!));
        throw failed.reason;
      }
      const results = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof insertWithRetry>>>).value);
      const rejected = results.find((r): r is { outcome: 'rejected'; reason: string } => r.outcome === 'rejected');
      if (rejected) {
        await deadLetter(
          p,
          batch,
          chunk.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value, reason: rejected.reason })),
        );
      }
      // Every message up to chunk.last is done for every shard (a shard without rows from it has nothing to store).
      for (let s = 0; s < st.high.length; s++) if (chunk.last > st.high[s]!) st.high[s] = chunk.last;
      results.forEach((result, i) => {
        if (result.outcome !== 'inserted') return;
        // Sent and stored: nothing reads these bytes again (a failed INSERT's are kept for its repeat).
        const body = chunk.shards[i]!.body;
        if (Array.isArray(body)) (native ? columnBlocks : rowBlocks).release(body);
        const n = chunk.shards[i]!.rows;
        metrics.sent.inc(n);
        metrics.rowsInserted.inc({ table: p.table }, n);
        storedRows[p.table] = (storedRows[p.table] ?? 0) + n;
        inserted++;
      });
    };
    /** Queues the chunk built so far behind the previous one's INSERT. */
    const seal = async (last: bigint): Promise<void> => {
      const chunk: Chunk = {
        shards: shardRows.flatMap((n, shard) => {
          if (n === 0) return [];
          const textParts = parts[shard]!;
          const body = native
            ? native.take(n)
            : binary
              ? binary[shard]!.take()
              : textParts.length === 1
                ? textParts[0]!
                : Buffer.concat(textParts);
          return [{ shard, format: batchFormat, body, rows: n, first: shardFirst[shard]! }];
        }),
        rows,
        first: chunkFirst ?? last,
        last,
        messages: chunkMessages,
      };
      const chunkDlq = dlq;
      parts = Array.from({ length: shards }, () => []);
      shardRows = new Array<number>(shards).fill(0);
      shardFirst = new Array<bigint | undefined>(shards).fill(undefined);
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
      await awaitInserts(p, previous);
    };

    const afterMessage = async (m: ReceivedMessage, records: number): Promise<void> => {
      if (m.timestamp < oldest) oldest = m.timestamp;
      // Let the in-flight INSERT's body reach the socket while this chunk is being built.
      sinceYield += records;
      if (sinceYield >= 5_000) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };

    for (const m of batch.messages) {
      const offset = BigInt(m.offset) + st.base;
      lastOffset = offset;
      if (offset <= lowest(st.high)) {
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
      const offsetLow = Number(offset & 0xffffffffn);
      const offsetHigh = Number(offset >> 32n);
      // After a failure one shard may already hold this message's rows and another not.
      const partlyStored = shards > 1 && offset <= highest(st.high);
      /** The shard of a row with this key, counted there; -1 when that shard already stored this message. */
      const placeRow = (key: string): number => {
        const shard = shards === 1 ? 0 : target.shardOf(key);
        if (partlyStored && offset <= st.high[shard]!) {
          metrics.dropped.inc({ reason: 'duplicate' });
          return -1;
        }
        shardFirst[shard] ??= offset;
        shardRows[shard]!++;
        rows++;
        return shard;
      };
      // The usual message (every record valid, plain ASCII) goes from its bytes to RowBinary rows
      // without an object per record (transcode.ts); anything else takes the general path below.
      // Native (one server, one shard) reads and writes the columns in one pass; a refused message
      // leaves them as they were.
      const fast = native
        ? p.transcoder.readColumns(m.value, native.columns, batch.partition, offsetLow, offsetHigh)
        : binary
          ? p.transcoder.read(m.value)
          : -1;
      if (fast >= 0) {
        if (shards === 1) {
          // One shard: the whole message's rows in one call (its loop keeps this function cold).
          shardFirst[0] ??= offset;
          shardRows[0]! += fast;
          rows += fast;
          if (!native) p.transcoder.writeRows(binary![0]!, batch.partition, offsetLow, offsetHigh);
        } else
          for (let i = 0; i < fast; i++) {
            const shard = placeRow(p.transcoder.text(i, p.shardKey));
            if (shard >= 0) p.transcoder.writeRow(i, binary![shard]!, batch.partition, offsetLow, offsetHigh);
          }
        metrics.received.inc(fast);
        await afterMessage(m, fast);
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
      const offsetText = binary || native ? '' : offset.toString();
      const bodies: string[] = new Array<string>(shards).fill('');
      let invalid: unknown[] | undefined;
      let reason = '';
      const add = (r: Record<string, unknown>): void => {
        const shard = placeRow(String(r[p.shardKey] ?? ''));
        if (shard < 0) return;
        if (native) p.encoder.writeColumns(native.columns, r, batch.partition, offsetLow, offsetHigh);
        else if (binary) p.encoder.writeRow(binary[shard]!, r, batch.partition, offsetLow, offsetHigh);
        else bodies[shard] += p.encoder.encode(r, batch.partition, offsetText);
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
      bodies.forEach((body, shard) => {
        if (body.length > 0) parts[shard]!.push(Buffer.from(body));
      });
      if (invalid) {
        metrics.dropped.inc({ reason: 'invalid' }, invalid.length);
        dlq.push({
          offset: m.offset,
          key: m.key,
          value: encodeRecords(invalid as object[]),
          reason: `${reason} (${invalid.length} of ${records.length} records)`,
        });
      }
      await afterMessage(m, records.length);
    }
    if (rows > 0 || dlq.length > 0) await seal(lastOffset);
    await awaitInserts(p, pending);
    if (inserted > 0 && Number.isFinite(oldest))
      metrics.lagSeconds.observe({ table: p.table }, Math.max(0, Date.now() - oldest) / 1000);
    for (let s = 0; s < state.high.length; s++) if (lastOffset > state.high[s]!) state.high[s] = lastOffset;
    state.next = lastOffset + 1n;
  }

  const stop = memoizeStop(async () => {
    stopSignal.abort();
    await Promise.allSettled(pipelines.flatMap((p) => p.subscriptions.map((sub) => sub.stop())));
    await target.stop();
    started = false;
  });

  return {
    name: 'analytics/sink',
    metrics,
    stored: () => ({ ...storedRows }),
    async start() {
      if (started) return;
      if (doMigrate) await migrate(store, { retention, log: deps.log, cluster: cluster?.name });
      await target.start();
      for (const p of pipelines) await settleFormat(p);
      await bus.ensureTopics([{ topic: config.dead_letter_topic }]);
      for (const p of pipelines) {
        // Several consumers in one group split a topic's partitions, so one batch is decoded while
        // another is being inserted (Kafka only; the in-process bus has one consumer per group).
        // They subscribe together so they join the group in one generation: one after the other,
        // each join forces a rebalance the earlier consumers only notice at their next heartbeat
        // (seconds of idle partitions at every start).
        const consumers = bus.kind === 'kafka' && p.record === 'flow' ? (config.flow_consumers ?? (target.clustered ? 2 : 1)) : 1;
        const subscribing = Array.from({ length: consumers }, () =>
          bus.subscribe({
            group: `${config.group}.${p.record}`,
            topics: [p.topic],
            fromBeginning,
            maxBatchMessages: config.max_batch_messages,
            // A whole fetch of one partition (the broker's fetch.max.bytes, 55 MiB by default,
            // bounds it): under a backlog, batches of up to batch_rows rows, one INSERT each.
            fetchBytesPerPartition: 64 * 1024 * 1024,
            fetchMinBytes: config.fetch_min_bytes,
            fetchMaxWaitMs: config.fetch_max_wait_ms,
            // A fetch's partitions side by side, so their rows can share INSERTs (combine.ts).
            partitionsConcurrently: target.clustered ? 1 : config.partitions_concurrently,
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
