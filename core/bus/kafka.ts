// Must come before kafkajs: swaps in a native CRC-32C for produced record batches, and a produce
// retry that keeps every acked message (kafkajs-send.ts).
import { crcPatch } from './kafkajs-crc.ts';
import { sendPatch } from './kafkajs-send.ts';
import {
  Kafka,
  Partitioners,
  logLevel as KafkaLogLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Message,
  type Producer,
} from 'kafkajs';
import { PathpilotError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createBusMetrics, type BusMetrics } from './metrics.ts';
import type { Bus, BusMessage, ReceivedMessage, SubscribeOptions, Subscription } from './types.ts';
import { waitForTopicsReady } from './topic-ready.ts';
import { checkMessages, checkSubscribe, checkTopic, defaultMaxBatchMessages, defaultPartitions, retryDelay } from './validate.ts';

/**
 * The Kafka bus, on kafkajs 2.2.4 (Kafka 4.x brokers: kafkajs negotiates API versions the broker
 * still supports). Producer: acks=-1, idempotent by default, key → partition by murmur2
 * (`Partitioners.DefaultPartitioner`, the Java client's placement). A publish() call is one produce
 * request; calls made while a request is in flight are merged into the next one (kafkajs cannot keep
 * idempotent sequence numbers straight with concurrent requests, so they go one at a time), and a
 * call larger than `maxRequestBytes` is split, in order. Topics are created with
 * `max.message.bytes` = `maxMessageBytes` so a partition's share of a request always fits, and
 * replicated: RF min(3, brokers) unless configured, `min.insync.replicas` 2 from RF 3 on. A leader
 * that dies mid-produce: kafkajs retries without limit (the idempotent producer's rule), at most
 * 2 s apart, re-sending exactly the partitions without an ack to their new leaders with the same
 * sequence numbers (kafkajs-send.ts corrects kafkajs' own retry, which loses some), so a publish()
 * resolves once, after the failover, with nothing lost or doubled.
 * Consumer: one kafkajs consumer per subscription, `eachBatch` with autoCommit off;
 * a chunk's offsets are committed only after the handler resolves; when it throws, the consumer
 * seeks back to the chunk's first offset and the batch is fetched and handed out again after a
 * backoff (at-least-once, nothing skipped).
 */
export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  log?: Logger;
  metrics?: BusMetrics;
  /**
   * Idempotent producer (no duplicates from producer retries). kafkajs cannot keep sequence numbers
   * straight with concurrent produce requests, so requests go one at a time (concurrent publish()
   * calls are merged). Off: each call is its own request, several in flight.
   * @defaultValue true
   */
  idempotent?: boolean;
  /** Largest request (sum of message values) the producer sends; bigger calls are split. @defaultValue 1 MiB */
  maxRequestBytes?: number;
  /** `max.message.bytes` of the topics ensureTopics() creates. @defaultValue 16 MiB */
  maxMessageBytes?: number;
  /**
   * Replication factor of the topics ensureTopics() creates; they get `min.insync.replicas` 2 when it
   * is ≥ 3 (1 below), so with acks=-1 one broker may die without losing an acked message or stopping
   * writes. @defaultValue min(3, brokers in the cluster): 1 on a single broker, 3 on a cluster
   */
  replicationFactor?: number;
  /** First redelivery delay after a handler failure; doubles up to `retryMaxMs`. @defaultValue 200 */
  retryBackoffMs?: number;
  /** Kept below the session timeout: the consumer does not heartbeat while it waits. @defaultValue 5000 */
  retryMaxMs?: number;
  /** Partitions whose batches are handled concurrently per subscription. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** Fetch sizing (bytes); a subscription may ask for more per partition. @defaultValue 16 MiB per partition, 64 MiB per request */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Longest a fetch waits for data; also bounds how long subscribe() waits to be ready. @defaultValue 500 */
  maxWaitTimeInMs?: number;
  /**
   * A consumer that stops heartbeating (killed process) keeps its partitions this long before the
   * group hands them over; the broker bounds it (group.min.session.timeout.ms, 6 s by default).
   * @defaultValue 30000
   */
  sessionTimeoutMs?: number;
  /** How long subscribe() waits for the group join and first fetch. @defaultValue 60000 */
  subscribeTimeoutMs?: number;
  /**
   * How long ensureTopics() (and so subscribe()) waits for every partition of its topics to have a
   * leader that serves it (topic-ready.ts) before failing with the partitions still missing one.
   * @defaultValue 30000
   */
  topicReadyTimeoutMs?: number;
}

const kafkaLevelToPino = (level: number): 'error' | 'warn' | 'info' | 'debug' => {
  switch (level) {
    case KafkaLogLevel.ERROR:
    case KafkaLogLevel.NOTHING:
      return 'error';
    case KafkaLogLevel.WARN:
      return 'warn';
    case KafkaLogLevel.INFO:
      return 'info';
    default:
      return 'debug';
  }
};

/** kafkajs → our pino logger, at warn and above (kafkajs is chatty at info). */
function kafkaLogCreator(log: Logger | undefined) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      if (!log) return;
      const { message, ...fields } = entry;
      log[kafkaLevelToPino(level)]({ ...fields, namespace, component: 'kafkajs' }, message);
    };
}

function headerString(value: IHeaders[string]): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).join(',');
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function toReceived(m: KafkaMessage): ReceivedMessage {
  const headers: Record<string, string> = {};
  if (m.headers) for (const name of Object.keys(m.headers)) headers[name] = headerString(m.headers[name]);
  const out: ReceivedMessage = {
    value: m.value ?? Buffer.alloc(0),
    headers,
    offset: m.offset,
    timestamp: Number(m.timestamp),
  };
  if (m.key !== null && m.key !== undefined) out.key = m.key.toString('utf8');
  return out;
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly metrics: BusMetrics;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  /** Topics seen ready (every partition led and served); they are not checked again. */
  private readonly readyTopics = new Set<string>();
  /** Sends waiting for the in-flight request (idempotent producer). */
  private readonly waiting: PendingSend[] = [];
  private draining: Promise<void> | undefined;
  private readonly maxRequestBytes: number;
  private started = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly idempotent: boolean;

  constructor(private readonly options: KafkaBusOptions) {
    if (!options.brokers.length) throw new PathpilotError('PP_ERR_CONFIG', 'kafka bus: at least one broker is required');
    const rf = options.replicationFactor;
    if (rf !== undefined && (!Number.isInteger(rf) || rf < 1)) {
      throw new PathpilotError('PP_ERR_CONFIG', `kafka bus: replicationFactor must be an integer ≥ 1, got ${rf}`);
    }
    this.metrics = options.metrics ?? createBusMetrics();
    this.idempotent = options.idempotent ?? true;
    this.maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'pathpilot',
      brokers: options.brokers,
      logLevel: KafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(options.log),
      connectionTimeout: 3000,
      retry: { initialRetryTime: 100, retries: 8 },
    });
  }

  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new PathpilotError('PP_ERR_BUS', 'kafka bus: start() after stop()'));
    this.starting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: this.idempotent,
        maxInFlightRequests: this.idempotent ? 1 : undefined,
        // Idempotent: retry until acked (kafkajs' own default for it), but at most 2 s apart, so a
        // publish resumes within 2 s of a leader election instead of up to 30 s later.
        ...(this.idempotent ? { retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: Number.MAX_SAFE_INTEGER } } : {}),
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const admin = this.kafka.admin();
      try {
        await Promise.all([producer.connect(), admin.connect()]);
      } catch (err) {
        await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
        this.starting = undefined;
        throw new PathpilotError('PP_ERR_BUS', `unable to connect to Kafka at ${this.options.brokers.join(',')}`, {
          cause: err,
        });
      }
      this.producer = producer;
      this.admin = admin;
      this.options.log?.debug({ nativeCrc32c: crcPatch.native, reason: crcPatch.reason }, 'kafka bus connected');
      if (!sendPatch.installed)
        this.options.log?.warn(
          { reason: sendPatch.reason },
          'kafkajs produce retry not corrected: a partition leader failing mid-produce can lose acked messages',
        );
      this.started = true;
    })();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.started = false;
      await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
      await this.draining;
      await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
    })();
    return this.stopping;
  }

  private ready(what: string): { producer: Producer; admin: Admin } {
    if (!this.started || !this.producer || !this.admin) {
      throw new PathpilotError('PP_ERR_BUS', `kafka bus: ${what} before start() or after stop()`);
    }
    return { producer: this.producer, admin: this.admin };
  }

  async ensureTopics(topics: { topic: string; partitions?: number }[]): Promise<void> {
    const { admin } = this.ready('ensureTopics');
    for (const { topic, partitions } of topics) {
      checkTopic(topic);
      if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
        throw new PathpilotError('PP_ERR_BUS', `ensureTopics: partitions of ${topic} must be an integer ≥ 1`);
      }
    }
    if (topics.every((t) => this.readyTopics.has(t.topic))) return;
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      const replication = missing.length > 0 ? await this.replication(admin) : undefined;
      if (replication)
        await admin.createTopics({
          // kafkajs' own leader wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a loaded broker answers
          // for a moment after creating the topic (it retries only LEADER_NOT_AVAILABLE): readiness is
          // waited for below, where both are retried until the leader serves the topic.
          waitForLeaders: false,
          topics: missing.map((t) => ({
            topic: t.topic,
            numPartitions: t.partitions ?? defaultPartitions,
            replicationFactor: replication.factor,
            configEntries: [
              { name: 'max.message.bytes', value: String(this.options.maxMessageBytes ?? 16 * 1024 * 1024) },
              { name: 'min.insync.replicas', value: String(replication.minInSync) },
            ],
          })),
        });
    } catch (err) {
      if (err instanceof PathpilotError && err.code === 'PP_ERR_CONFIG') throw err;
      this.metrics.errors.inc({ error_type: 'admin' });
      throw new PathpilotError('PP_ERR_BUS', `unable to create topics ${topics.map((t) => t.topic).join(', ')}`, {
        cause: err,
      });
    }
    // Created here or listed already (another client may have created it a moment ago, or a publish
    // auto-created it): either way the broker may not serve it yet. Wait, once per topic.
    const unchecked = [...new Set(topics.map((t) => t.topic))].filter((t) => !this.readyTopics.has(t));
    try {
      await waitForTopicsReady(admin, unchecked, { timeoutMs: this.options.topicReadyTimeoutMs ?? 30_000 });
    } catch (err) {
      this.metrics.errors.inc({ error_type: 'admin' });
      throw new PathpilotError('PP_ERR_BUS', `topics ${unchecked.join(', ')} are not ready: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    for (const t of unchecked) this.readyTopics.add(t);
  }

  /**
   * The replication of new topics: the configured factor, else min(3, brokers the cluster lists now).
   * A configured factor above the cluster's brokers is refused here, naming both (Kafka would only
   * say INVALID_REPLICATION_FACTOR).
   */
  private async replication(admin: Admin): Promise<{ factor: number; minInSync: number }> {
    const { brokers } = await admin.describeCluster();
    const wanted = this.options.replicationFactor;
    if (wanted !== undefined && wanted > brokers.length) {
      throw new PathpilotError(
        'PP_ERR_CONFIG',
        `services.bus.replication_factor is ${wanted} but the Kafka cluster lists ${brokers.length} broker(s)`,
      );
    }
    const factor = wanted ?? Math.max(1, Math.min(3, brokers.length));
    return { factor, minInSync: factor >= 3 ? 2 : 1 };
  }

  async deleteTopics(topics: string[]): Promise<void> {
    const { admin } = this.ready('deleteTopics');
    topics.forEach(checkTopic);
    for (const t of topics) this.readyTopics.delete(t);
    try {
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length) await admin.deleteTopics({ topics: present, timeout: 30_000 });
    } catch (err) {
      this.metrics.errors.inc({ error_type: 'admin' });
      throw new PathpilotError('PP_ERR_BUS', `unable to delete topics ${topics.join(', ')}`, { cause: err });
    }
  }

  /**
   * Resolves once the broker acked every message (acks=-1). One produce request per call, except that
   * calls waiting for the in-flight request are merged into the next one, and a call larger than
   * `maxRequestBytes` is split in order (if a later part fails the earlier parts stay published:
   * the caller's retry may duplicate them; at-least-once).
   */
  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    const { producer } = this.ready('publish');
    try {
      checkMessages(topic, messages);
    } catch (err) {
      this.metrics.errors.inc({ error_type: 'validation' });
      throw err;
    }
    if (messages.length === 0) return;
    // Split into requests of at most maxRequestBytes (a single larger message goes alone).
    const chunks: { messages: Message[]; bytes: number }[] = [];
    let current: { messages: Message[]; bytes: number } = { messages: [], bytes: 0 };
    let total = 0;
    for (const m of messages) {
      const size = m.value.length;
      if (current.messages.length > 0 && current.bytes + size > this.maxRequestBytes) {
        chunks.push(current);
        current = { messages: [], bytes: 0 };
      }
      current.messages.push({ key: m.key ?? null, value: m.value, headers: m.headers });
      current.bytes += size;
      total += size;
    }
    chunks.push(current);
    try {
      if (this.idempotent) {
        await Promise.all(chunks.map((c) => this.enqueue(topic, c.messages, c.bytes)));
      } else {
        for (const c of chunks) await producer.send({ topic, acks: -1, messages: c.messages });
      }
    } catch (err) {
      this.metrics.errors.inc({ error_type: 'publish' });
      throw new PathpilotError('PP_ERR_BUS', `publish of ${messages.length} messages to ${topic} failed`, {
        cause: err,
      });
    }
    this.metrics.published.inc({ topic }, messages.length);
    this.metrics.publishedBytes.inc({ topic }, total);
  }

  private enqueue(topic: string, messages: Message[], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ topic, messages, bytes, resolve, reject });
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    });
  }

  /** Sends waiting calls one request at a time, merging what fits in maxRequestBytes (FIFO, so per-key order holds). */
  private async drain(): Promise<void> {
    const producer = this.producer!;
    while (this.waiting.length > 0) {
      const group: PendingSend[] = [];
      let bytes = 0;
      while (this.waiting.length > 0 && (group.length === 0 || bytes + this.waiting[0]!.bytes <= this.maxRequestBytes)) {
        const next = this.waiting.shift()!;
        group.push(next);
        bytes += next.bytes;
      }
      const byTopic = new Map<string, Message[]>();
      for (const p of group) {
        const list = byTopic.get(p.topic);
        if (list) list.push(...p.messages);
        else byTopic.set(p.topic, [...p.messages]);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })),
        });
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.ready('subscribe');
    checkSubscribe(options);
    await this.ensureTopics(options.topics.map((topic) => ({ topic })));
    const consumer = this.kafka.consumer({
      groupId: options.group,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 3)),
      // A subscription may ask for more per partition (the sink asks for a whole fetch: under a
      // backlog a partition's batch is then all the broker sends at once, up to its
      // fetch.max.bytes, 55 MiB by default, and the sink writes fewer, larger INSERTs; its peak
      // RSS under a backlog ~370 MB instead of ~285). The memory bound is maxBytes either way.
      maxBytesPerPartition: options.fetchBytesPerPartition ?? this.options.maxBytesPerPartition ?? 16 * 1024 * 1024,
      maxBytes: this.options.maxBytes ?? 64 * 1024 * 1024,
      minBytes: options.fetchMinBytes ?? 1,
      maxWaitTimeInMs: options.fetchMaxWaitMs ?? this.options.maxWaitTimeInMs ?? 500,
      allowAutoTopicCreation: false,
    });
    const sub = new KafkaSubscription(consumer, options, this.metrics, {
      log: this.options.log,
      retryBackoffMs: this.options.retryBackoffMs ?? 200,
      retryMaxMs: this.options.retryMaxMs ?? 5000,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? this.options.partitionsConsumedConcurrently ?? 1,
      subscribeTimeoutMs: this.options.subscribeTimeoutMs ?? 60_000,
      onStop: () => this.subscriptions.delete(sub),
    });
    this.subscriptions.add(sub);
    try {
      await sub.run();
    } catch (err) {
      await sub.stop();
      throw new PathpilotError('PP_ERR_BUS', `unable to subscribe group ${options.group} to ${options.topics.join(', ')}`, {
        cause: err,
      });
    }
    return sub;
  }
}

interface PendingSend {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

class KafkaSubscription implements Subscription {
  private paused = false;
  private stopping: Promise<void> | undefined;
  private readonly failures = new Map<string, number>();
  private readonly topics: string[];
  private readonly abort = new AbortController();

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
    private readonly metrics: BusMetrics,
    private readonly settings: {
      log?: Logger;
      retryBackoffMs: number;
      retryMaxMs: number;
      partitionsConsumedConcurrently: number;
      subscribeTimeoutMs: number;
      onStop: () => void;
    },
  ) {
    this.topics = [...new Set(options.topics)];
  }

  /**
   * Connects, joins the group and resolves once the first fetch has run, i.e. once every assigned
   * partition has its start offset (committed, or earliest/latest): a message published after
   * subscribe() resolves is seen even by a `fromBeginning: false` group.
   */
  async run(): Promise<void> {
    const { consumer } = this;
    const { events } = consumer;
    let removeFetch: (() => void) | undefined;
    let removeCrash: (() => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      let joined = false;
      const removeJoin = consumer.on(events.GROUP_JOIN, () => {
        joined = true;
        removeJoin();
      });
      removeFetch = consumer.on(events.FETCH, () => {
        if (joined) resolve();
      });
      removeCrash = consumer.on(events.CRASH, (e) => {
        this.metrics.errors.inc({ error_type: 'consumer' });
        const err = e.payload.error;
        this.settings.log?.error(
          { err: errorMessage(err), group: this.options.group, restart: e.payload.restart },
          'kafka consumer crashed',
        );
        if (!e.payload.restart) reject(err);
      });
      setTimeout(
        () => reject(new Error(`no group join and first fetch within ${this.settings.subscribeTimeoutMs} ms`)),
        this.settings.subscribeTimeoutMs,
      ).unref();
    });
    ready.catch(() => {}); // Awaited below; this only keeps an early rejection from going unhandled.
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? false });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(payload),
      });
      await ready;
    } finally {
      removeFetch?.();
      // The crash listener stays to log and count later crashes.
      void removeCrash;
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const { topic, partition } = batch;
    const max = this.options.maxBatchMessages ?? defaultMaxBatchMessages;
    const key = `${topic}/${partition}`;
    const all = batch.messages;
    for (let i = 0; i < all.length; i += max) {
      if (!isRunning() || isStale()) return;
      if (this.paused) {
        // Not resolved: the rest is fetched again when consuming resumes.
        this.consumer.seek({ topic, partition, offset: all[i]!.offset });
        return;
      }
      const chunk = all.slice(i, i + max);
      const failures = this.failures.get(key) ?? 0;
      if (failures > 0) this.metrics.redelivered.inc({ topic }, chunk.length);
      try {
        await this.options.handler({ topic, partition, messages: chunk.map(toReceived) });
      } catch (err) {
        const n = failures + 1;
        this.failures.set(key, n);
        const delay = retryDelay(n, this.settings.retryBackoffMs, this.settings.retryMaxMs);
        this.metrics.errors.inc({ error_type: 'handler' });
        this.settings.log?.warn(
          { err: errorMessage(err), group: this.options.group, topic, partition, failures: n, retryInMs: delay },
          'bus handler failed; batch will be redelivered',
        );
        this.consumer.seek({ topic, partition, offset: chunk[0]!.offset });
        await this.sleep(delay);
        return;
      }
      this.failures.delete(key);
      const last = chunk[chunk.length - 1]!.offset;
      resolveOffset(last);
      try {
        await commitOffsetsIfNecessary({
          topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
        });
      } catch (err) {
        // A rebalance took the partition: its new owner re-reads from the last commit (at-least-once).
        this.metrics.errors.inc({ error_type: 'commit' });
        throw err;
      }
      this.metrics.consumed.inc({ topic }, chunk.length);
      await heartbeat();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  pause(): void {
    this.paused = true;
    this.consumer.pause(this.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.paused = false;
    this.consumer.resume(this.topics.map((topic) => ({ topic })));
  }

  /** Waits for the running handler (kafkajs does), commits what it finished, leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      try {
        await this.consumer.disconnect();
      } finally {
        this.settings.onStop();
      }
    })();
    return this.stopping;
  }
}
