/**
 * When is a freshly created Kafka topic usable? `CreateTopics` returns once the controller has the
 * topic; the broker learns of it a moment later, first in its metadata cache, then in its replica
 * manager. A consumer that joins in between fails with UNKNOWN_TOPIC_OR_PARTITION ("This server does
 * not host this topic-partition") or LEADER_NOT_AVAILABLE — under load that moment grows (issue 11).
 * So a topic counts as ready only when every partition has a leader in the metadata AND the leader
 * answers a ListOffsets request for it (served by the replica manager, like fetches and joins are).
 * KafkaBus.ensureTopics waits for this, so every subscribe and publish goes through it; nothing else
 * (no test) needs its own wait.
 */
import { errorMessage } from '../errors.ts';

export interface TopicMetadataView {
  topics: { name: string; partitions: { partitionId: number; leader: number }[] }[];
}

/**
 * What is still missing for `topics` in a metadata answer: `topic` (not in it, or no partitions yet)
 * or `topic/partition` (no leader: leader < 0). Empty when every partition has a leader.
 */
export function partitionsWithoutLeader(metadata: TopicMetadataView, topics: readonly string[]): string[] {
  const byName = new Map(metadata.topics.map((t) => [t.name, t.partitions]));
  const missing: string[] = [];
  for (const topic of topics) {
    const partitions = byName.get(topic);
    if (!partitions || partitions.length === 0) {
      missing.push(topic);
      continue;
    }
    for (const p of partitions) if (!(p.leader >= 0)) missing.push(`${topic}/${p.partitionId}`);
  }
  return missing;
}

/** The two kafkajs Admin calls the wait uses (kafkajs' Admin satisfies it). */
export interface TopicAdmin {
  fetchTopicMetadata(request: { topics: string[] }): Promise<TopicMetadataView>;
  fetchTopicOffsets(topic: string): Promise<unknown>;
}

export class TopicsNotReadyError extends Error {
  constructor(
    readonly pending: string[],
    timeoutMs: number,
    lastError: string | undefined,
  ) {
    super(
      `Kafka topics not ready after ${timeoutMs} ms: ${pending.join(', ')} ` +
        `(no partition leader or the leader does not serve them yet)${lastError ? `; last error: ${lastError}` : ''}`,
    );
    this.name = 'TopicsNotReadyError';
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between checks. @defaultValue 50 */
  intervalMs?: number;
}

/** Resolves once every topic is ready (see above); throws TopicsNotReadyError naming what is not, after `timeoutMs`. */
export async function waitForTopicsReady(admin: TopicAdmin, topics: readonly string[], options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  let pending = [...new Set(topics)];
  let lastError: string | undefined;
  while (pending.length > 0) {
    const stillPending: string[] = [];
    let missing: string[] = [];
    try {
      missing = partitionsWithoutLeader(await admin.fetchTopicMetadata({ topics: pending }), pending);
    } catch (err) {
      // The broker does not know a topic yet (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE): ask again.
      lastError = errorMessage(err);
      missing = [...pending];
    }
    for (const topic of pending) {
      if (missing.some((m) => m === topic || m.startsWith(`${topic}/`))) {
        stillPending.push(topic);
        continue;
      }
      try {
        await admin.fetchTopicOffsets(topic);
      } catch (err) {
        lastError = errorMessage(err);
        stillPending.push(topic);
      }
    }
    pending = stillPending;
    if (pending.length === 0) return;
    if (Date.now() >= deadline) {
      throw new TopicsNotReadyError(
        missing.length > 0 ? missing.filter((m) => pending.some((t) => m === t || m.startsWith(`${t}/`))) : pending,
        options.timeoutMs,
        lastError,
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
