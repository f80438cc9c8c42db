import { z } from 'zod';

/**
 * The `analytics` section of pathpilot.yaml: retention per tier, the sink's batching and, for a
 * ClickHouse cluster, its name and shards.
 * Retention is applied by TTL where the server has it (19.6+, chDB) and by a partition-drop job
 * otherwise (18.16).
 */
export const retentionSchema = z
  .object({
    /** Raw flows, probes and iface counters. @defaultValue 15 */
    raw_days: z.number().int().positive().default(15),
    /** 1-minute rollups. @defaultValue 30 */
    minute_days: z.number().int().positive().default(30),
    /** Hourly rollups. @defaultValue 730 (two years) */
    hour_days: z.number().int().positive().default(730),
    /** Billing lines and daily costs. @defaultValue 730 */
    cost_days: z.number().int().positive().default(730),
    /** Forecasts. @defaultValue 90 */
    forecast_days: z.number().int().positive().default(90),
  })
  .strict();

export const sinkSchema = z
  .object({
    /** Kafka consumer group. @defaultValue "pathpilot-sink" */
    group: z.string().min(1).default('pathpilot-sink'),
    /**
     * Largest INSERT, in rows. A batch is what the bus fetched for a partition (Kafka: up to
     * `max_batch_messages` messages within its 500 ms fetch wait); larger batches are split at
     * message boundaries. Kept under ClickHouse's max_insert_block_size (1,048,576) so each INSERT
     * is one block, stored entirely or not at all. 250,000 rather than 100,000: ClickHouse's cost
     * per row falls with the INSERT's size (every INSERT writes a part per table and view, files
     * and merges included), and a backlog fetch of ~400k flow rows is then 2 INSERTs instead of 4
     * or 5. @defaultValue 250000
     */
    batch_rows: z.number().int().positive().max(1_000_000).default(250_000),
    /**
     * Kafka consumers for the flow topic (in one group: they split its partitions). Default: 1 on
     * one server or chDB, whose consumer handles a fetch's partitions side by side
     * (`partitions_concurrently`) and joins their rows; 2 on a cluster, where one batch is decoded
     * while another is inserted.
     */
    flow_consumers: z.number().int().min(1).max(16).optional(),
    /**
     * Kafka: bytes the broker gathers for a consumer's partitions before it answers a fetch, unless
     * `fetch_max_wait_ms` passes first. A fetch's rows are its INSERTs, and ClickHouse's cost is
     * mostly per INSERT (a part per table and view, its files, its merges): a sink that keeps up with
     * a steady stream would otherwise write whatever arrived during the last INSERT (bench:sink at
     * 50,000 rows/s: 1,250-row INSERTs before; 13,500 with the fetch waiting, 30,800 with a fetch's
     * partitions sharing INSERTs too). A backlog is not held: the bytes are there.
     * @defaultValue 33554432 (32 MiB)
     */
    fetch_min_bytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .default(32 * 1024 * 1024),
    /**
     * Kafka: longest the broker holds a fetch short of `fetch_min_bytes`: the most a quiet stream's
     * rows wait before their INSERT (ClickHouse's Kafka engine flushes every 7.5 s; bench:sink's lag
     * p99 at 50,000 rows/s 2.5 s). The end of a backlog waits this long too. @defaultValue 1000
     */
    fetch_max_wait_ms: z.number().int().min(0).max(30_000).default(1000),
    /**
     * One server or chDB: how long a batch's rows wait for the other partitions' batches of the same
     * fetch to join them in one INSERT (analytics/sink/combine.ts); they go as soon as no batch is
     * still being read. @defaultValue 100
     */
    combine_window_ms: z.number().int().min(0).max(5000).default(100),
    /**
     * One server or chDB: partitions of a fetch whose batches a consumer handles side by side (and
     * whose rows then share INSERTs). @defaultValue 4
     */
    partitions_concurrently: z.number().int().min(1).max(64).default(4),
    /** Largest batch the bus hands over, in messages. @defaultValue 2000 */
    max_batch_messages: z.number().int().positive().default(2000),
    /** Dead-letter topic for messages that fail validation. @defaultValue "pathpilot.deadletter.v1" */
    dead_letter_topic: z.string().min(1).default('pathpilot.deadletter.v1'),
    /** Backoff bounds while ClickHouse refuses inserts. */
    retry_min_ms: z.number().int().positive().default(200),
    retry_max_ms: z.number().int().positive().default(10_000),
    /** Records the sink consumes (default: all record kinds). */
    records: z.array(z.enum(['flow', 'probe', 'iface', 'cost', 'change'])).default(['flow', 'probe', 'iface', 'cost', 'change']),
  })
  .strict();

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A ClickHouse cluster instead of one server (issue 20; docs/notes/analytics.md "Cluster"). With
 * `cluster`, the schema converges ON CLUSTER: replicated `<table>_local` tables on every node and
 * `Distributed` tables under the names the queries use. `shards` lists each shard's replicas (HTTP
 * URLs, in the order of the cluster's `remote_servers`): the sink writes each shard's rows to one of
 * them itself. Leave both out for one server or chDB.
 */
export const clusterSchema = z
  .object({
    /** The cluster's name in the servers' `remote_servers`. */
    name: z.string().regex(identifier, 'a plain identifier (letters, digits, _)'),
    /** Per shard, its replicas' HTTP URLs (`http://host:8123`), shards in `remote_servers` order. */
    shards: z.array(z.array(z.string().url()).min(1, 'a shard needs at least one replica URL')).min(1, 'at least one shard'),
  })
  .strict();

export const storeSchema = z
  .object({
    cluster: clusterSchema.optional(),
  })
  .strict();

export const analyticsSchema = z
  .object({
    retention: retentionSchema.default(retentionSchema.parse({})),
    sink: sinkSchema.default(sinkSchema.parse({})),
    store: storeSchema.default(storeSchema.parse({})),
  })
  .strict();

export type RetentionConfig = z.infer<typeof retentionSchema>;
export type SinkConfig = z.infer<typeof sinkSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type AnalyticsConfig = z.infer<typeof analyticsSchema>;
