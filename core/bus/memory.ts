import { PathpilotError, errorMessage } from '../errors.ts';
import { RealClock, type Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { partitionForKey } from './partition.ts';
import { createBusMetrics, type BusMetrics } from './metrics.ts';
import type { Bus, BusMessage, MessageBatch, ReceivedMessage, SubscribeOptions, Subscription } from './types.ts';
import { checkMessages, checkSubscribe, checkTopic, defaultMaxBatchMessages, defaultPartitions, retryDelay } from './validate.ts';

/**
 * The in-process bus (for `npm start`, the lab and unit tests). It keeps Kafka's semantics where
 * the parts rely on them: topics with partitions, key → partition by Kafka's murmur2, consumer
 * groups with committed offsets (a group's partitions are shared among its members), batches
 * committed only after the handler resolves, redelivery with backoff when it throws, pause/resume.
 *
 * Memory is bounded per partition by `maxRetainedMessages`, and only messages every group has
 * committed (and no member still needs) are trimmed: a group that lags keeps its backlog, so memory
 * is NOT bounded while a consumer is stuck. A group created later with `fromBeginning` starts at the
 * oldest retained message (as with Kafka's retention).
 */

interface PartitionLog {
  /** Offset of messages[0] (older messages were trimmed). */
  base: number;
  messages: ReceivedMessage[];
}

const endOffset = (log: PartitionLog) => log.base + log.messages.length;

interface MemoryTopic {
  partitions: PartitionLog[];
  /** Next partition for keyless messages (round robin). */
  roundRobin: number;
}

interface Member {
  readonly topics: readonly string[];
  /** Next offset this member would read (committed, or its start offset). */
  position(topic: string, partition: number): number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The shared state of an in-process "cluster": topic logs, committed offsets and group members.
 * Several MemoryBus instances over one broker behave like several processes on one Kafka cluster
 * (tests use that to restart a consumer "process").
 */
export class MemoryBroker {
  readonly topics = new Map<string, MemoryTopic>();
  /** group → topic/partition → next offset to read. */
  private readonly committed = new Map<string, Map<string, number>>();
  /** group → members in join order. */
  private readonly members = new Map<string, Member[]>();
  /** group → topic/partitions a member is handling right now. */
  private readonly inFlight = new Map<string, Set<string>>();
  private waiters = new Set<() => void>();

  createTopic(topic: string, partitions: number): MemoryTopic {
    let t = this.topics.get(topic);
    if (!t) {
      t = { partitions: Array.from({ length: partitions }, () => ({ base: 0, messages: [] })), roundRobin: 0 };
      this.topics.set(topic, t);
      this.notify();
    }
    return t;
  }

  deleteTopic(topic: string): void {
    if (!this.topics.delete(topic)) return;
    const prefix = `${topic}\u0000`;
    for (const offsets of this.committed.values()) {
      for (const k of [...offsets.keys()]) if (k.startsWith(prefix)) offsets.delete(k);
    }
    this.notify();
  }

  committedOffset(group: string, topic: string, partition: number): number | undefined {
    return this.committed.get(group)?.get(tpKey(topic, partition));
  }

  commit(group: string, topic: string, partition: number, next: number): void {
    let offsets = this.committed.get(group);
    if (!offsets) this.committed.set(group, (offsets = new Map()));
    offsets.set(tpKey(topic, partition), next);
  }

  join(group: string, member: Member): void {
    const list = this.members.get(group) ?? [];
    list.push(member);
    this.members.set(group, list);
    this.notify();
  }

  leave(group: string, member: Member): void {
    const list = (this.members.get(group) ?? []).filter((m) => m !== member);
    if (list.length) this.members.set(group, list);
    else this.members.delete(group);
    this.notify();
  }

  /** The partitions `member` owns now: each partition goes to one member subscribed to its topic. */
  assignment(group: string, member: Member): { topic: string; partition: number }[] {
    const list = this.members.get(group) ?? [];
    const out: { topic: string; partition: number }[] = [];
    for (const topic of member.topics) {
      const t = this.topics.get(topic);
      if (!t) continue;
      const eligible = list.filter((m) => m.topics.includes(topic));
      const index = eligible.indexOf(member);
      if (index < 0) continue;
      for (let p = 0; p < t.partitions.length; p++) {
        if (p % eligible.length === index) out.push({ topic, partition: p });
      }
    }
    return out;
  }

  /**
   * Drops the oldest messages of a partition beyond `keep`, but none that a group has not committed
   * or a member still needs. Trims in steps of keep/4 so the copying is amortized.
   */
  trim(topic: string, partition: number, keep: number): void {
    const log = this.topics.get(topic)?.partitions[partition];
    if (!log || log.messages.length <= keep + Math.max(1, keep >> 2)) return;
    let floor = endOffset(log);
    const k = tpKey(topic, partition);
    for (const offsets of this.committed.values()) {
      const c = offsets.get(k);
      if (c !== undefined) floor = Math.min(floor, c);
    }
    for (const list of this.members.values()) {
      for (const m of list) if (m.topics.includes(topic)) floor = Math.min(floor, m.position(topic, partition));
    }
    const drop = Math.min(log.messages.length - keep, floor - log.base);
    if (drop <= 0) return;
    log.messages.splice(0, drop);
    log.base += drop;
  }

  /** Marks a partition busy for the group; false when another member still handles it (rebalance). */
  claim(group: string, topic: string, partition: number): boolean {
    let set = this.inFlight.get(group);
    if (!set) this.inFlight.set(group, (set = new Set()));
    const k = tpKey(topic, partition);
    if (set.has(k)) return false;
    set.add(k);
    return true;
  }

  release(group: string, topic: string, partition: number): void {
    this.inFlight.get(group)?.delete(tpKey(topic, partition));
  }

  /** Wakes every consumer loop waiting for news (a publish, a new topic, a member joining or leaving). */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify(), after `timeoutMs`, or when `signal` aborts. */
  waitForChange(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}

export interface MemoryBusOptions {
  /** Share one broker between buses to emulate several processes on one cluster. */
  broker?: MemoryBroker;
  clock?: Clock;
  log?: Logger;
  metrics?: BusMetrics;
  /** Messages kept per partition once every group has consumed them. @defaultValue 10000 */
  maxRetainedMessages?: number;
  /** First redelivery delay after a handler failure; doubles up to `retryMaxMs`. @defaultValue 100 */
  retryBackoffMs?: number;
  /** @defaultValue 5000 */
  retryMaxMs?: number;
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly broker: MemoryBroker;
  private readonly clock: Clock;
  private readonly metrics: BusMetrics;
  private readonly subscriptions = new Set<MemorySubscription>();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MemoryBusOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker();
    this.clock = options.clock ?? new RealClock();
    this.metrics = options.metrics ?? createBusMetrics();
  }

  async start(): Promise<void> {
    if (this.stopping) throw new PathpilotError('PP_ERR_BUS', 'memory bus: start() after stop()');
    this.started = true;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.started = false;
      await Promise.all([...this.subscriptions].map((s) => s.stop()));
    })();
    return this.stopping;
  }

  private assertStarted(what: string): void {
    if (!this.started) throw new PathpilotError('PP_ERR_BUS', `memory bus: ${what} before start() or after stop()`);
  }

  async ensureTopics(topics: { topic: string; partitions?: number }[]): Promise<void> {
    this.assertStarted('ensureTopics');
    for (const { topic, partitions } of topics) {
      checkTopic(topic);
      const n = partitions ?? defaultPartitions;
      if (!Number.isInteger(n) || n < 1) {
        throw new PathpilotError('PP_ERR_BUS', `ensureTopics: partitions of ${topic} must be an integer ≥ 1`);
      }
      this.broker.createTopic(topic, n);
    }
  }

  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    this.assertStarted('publish');
    try {
      checkMessages(topic, messages);
    } catch (err) {
      this.metrics.errors.inc({ error_type: 'validation' });
      throw err;
    }
    if (messages.length === 0) return;
    const t = this.broker.createTopic(topic, defaultPartitions);
    const timestamp = this.clock.now();
    let bytes = 0;
    for (const m of messages) {
      const p = m.key !== undefined ? partitionForKey(m.key, t.partitions.length) : t.roundRobin++ % t.partitions.length;
      const log = t.partitions[p]!;
      log.messages.push({
        key: m.key,
        value: m.value,
        headers: m.headers ? { ...m.headers } : {},
        offset: String(endOffset(log)),
        timestamp,
      });
      bytes += m.value.length;
    }
    this.metrics.published.inc({ topic }, messages.length);
    this.metrics.publishedBytes.inc({ topic }, bytes);
    const keep = this.options.maxRetainedMessages ?? 10_000;
    for (let p = 0; p < t.partitions.length; p++) this.broker.trim(topic, p, keep);
    this.broker.notify();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertStarted('subscribe');
    checkSubscribe(options);
    for (const topic of options.topics) this.broker.createTopic(topic, defaultPartitions);
    const sub = new MemorySubscription(this.broker, options, this.metrics, {
      log: this.options.log,
      retryBackoffMs: this.options.retryBackoffMs ?? 100,
      retryMaxMs: this.options.retryMaxMs ?? 5000,
      onStop: () => this.subscriptions.delete(sub),
    });
    this.subscriptions.add(sub);
    sub.run();
    return sub;
  }

  async deleteTopics(topics: string[]): Promise<void> {
    this.assertStarted('deleteTopics');
    topics.forEach(checkTopic);
    for (const topic of topics) this.broker.deleteTopic(topic);
  }
}

class MemorySubscription implements Subscription, Member {
  readonly topics: readonly string[];
  private paused = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  /**
   * Where to start a partition that has no committed offset: its end at subscribe time (latest) or 0.
   * Keyed by the topic object, so a topic deleted and created again starts at 0.
   */
  private readonly startOffsets = new WeakMap<MemoryTopic, number[]>();
  private readonly failures = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();

  constructor(
    private readonly broker: MemoryBroker,
    private readonly options: SubscribeOptions,
    private readonly metrics: BusMetrics,
    private readonly settings: { log?: Logger; retryBackoffMs: number; retryMaxMs: number; onStop: () => void },
  ) {
    this.topics = [...new Set(options.topics)];
    for (const topic of this.topics) {
      const t = broker.topics.get(topic);
      if (t)
        this.startOffsets.set(
          t,
          t.partitions.map((log) => (options.fromBeginning ? 0 : endOffset(log))),
        );
    }
  }

  run(): void {
    this.broker.join(this.options.group, this);
    this.loop = this.consume().catch((err: unknown) => {
      this.metrics.errors.inc({ error_type: 'consumer' });
      this.settings.log?.error({ err: errorMessage(err), group: this.options.group }, 'memory bus consumer stopped');
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.broker.notify();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.loop;
      this.broker.leave(this.options.group, this);
      this.settings.onStop();
    })();
    return this.stopping;
  }

  position(topic: string, partition: number): number {
    const committed = this.broker.committedOffset(this.options.group, topic, partition);
    if (committed !== undefined) return committed;
    const t = this.broker.topics.get(topic);
    return (t && this.startOffsets.get(t)?.[partition]) ?? 0;
  }

  private async consume(): Promise<void> {
    const { group } = this.options;
    const max = this.options.maxBatchMessages ?? defaultMaxBatchMessages;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let worked = false;
      let nextRetry = Infinity;
      if (!this.paused) {
        for (const { topic, partition } of this.broker.assignment(group, this)) {
          if (signal.aborted || this.paused) break;
          const k = tpKey(topic, partition);
          const due = this.retryAt.get(k);
          if (due !== undefined && due > Date.now()) {
            nextRetry = Math.min(nextRetry, due);
            continue;
          }
          const log = this.broker.topics.get(topic)?.partitions[partition];
          if (!log) continue;
          const from = Math.max(this.position(topic, partition), log.base);
          if (from >= endOffset(log)) continue;
          if (!this.broker.claim(group, topic, partition)) continue;
          try {
            // Re-read after claiming: the previous owner may have committed meanwhile. Below the
            // oldest retained message means trimmed: start at the oldest (Kafka's earliest reset).
            const start = Math.max(this.position(topic, partition), log.base);
            const messages = log.messages.slice(start - log.base, start - log.base + max);
            if (messages.length === 0) continue;
            worked = true;
            await this.deliver({ topic, partition, messages }, start);
          } finally {
            this.broker.release(group, topic, partition);
          }
        }
      }
      if (!worked && !signal.aborted) {
        const wait = nextRetry === Infinity ? 1000 : nextRetry - Date.now();
        await this.broker.waitForChange(wait, signal);
      }
    }
  }

  private async deliver(batch: MessageBatch, start: number): Promise<void> {
    const { topic, partition } = batch;
    const k = tpKey(topic, partition);
    const failures = this.failures.get(k) ?? 0;
    if (failures > 0) this.metrics.redelivered.inc({ topic }, batch.messages.length);
    try {
      await this.options.handler(batch);
    } catch (err) {
      const n = failures + 1;
      this.failures.set(k, n);
      const delay = retryDelay(n, this.settings.retryBackoffMs, this.settings.retryMaxMs);
      this.retryAt.set(k, Date.now() + delay);
      this.metrics.errors.inc({ error_type: 'handler' });
      this.settings.log?.warn(
        { err: errorMessage(err), group: this.options.group, topic, partition, failures: n, retryInMs: delay },
        'bus handler failed; batch will be redelivered',
      );
      return;
    }
    this.failures.delete(k);
    this.retryAt.delete(k);
    // The handler finished: commit even if stop() was requested meanwhile.
    this.broker.commit(this.options.group, topic, partition, start + batch.messages.length);
    this.metrics.consumed.inc({ topic }, batch.messages.length);
  }
}
