/**
 * Replay protection for signed requests (Slack interactivity): a signed request is acted on once.
 * The key is remembered until the request's signature window closes; after that the timestamp check
 * refuses it anyway, so the cache never needs to hold a key longer.
 *
 * Two implementations: memory (one API process; bounded) and Redis (`SET key NX PXAT`), which
 * several API processes behind one load balancer share.
 */
import { Redis } from 'ioredis';

export interface ReplayCache {
  /**
   * True the first time `key` is seen before `expiresAtMs`; false for every later call until
   * then. Recording and checking are one step, so two concurrent copies cannot both pass.
   */
  firstUse(key: string, expiresAtMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * One process's replay cache: a Map in insertion order, expired keys dropped from the front as new
 * ones arrive. When `maxEntries` unexpired keys are held (only requests with a valid signature get
 * here, so that means Slack sent that many in one window), the oldest is dropped: a replay of it
 * would pass, which `evicted` counts so a dashboard can show it.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();
  evicted = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('replay cache: maxEntries must be a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  async firstUse(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    this.seen.delete(key);
    this.prune(now);
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
      this.evicted++;
    }
    this.seen.set(key, expiresAtMs);
    return true;
  }

  /** Drops expired keys from the front; keys arrive with (nearly) increasing expiry, so it stops early. */
  private prune(now: number): void {
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(key);
    }
  }

  async close(): Promise<void> {
    this.seen.clear();
  }
}

/** The replay cache in Redis, shared by every API process that points at it. */
export class RedisReplayCache implements ReplayCache {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'pathpilot:replay',
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  }

  async firstUse(key: string, expiresAtMs: number): Promise<boolean> {
    // PXAT: the key disappears when the signature window closes, whatever this process's clock says later.
    const answer = await this.redis.set(`${this.prefix}:${key}`, '1', 'PXAT', Math.max(1, Math.ceil(expiresAtMs)), 'NX');
    return answer === 'OK';
  }

  async close(): Promise<void> {
    // Never used: no connection to close (quit would open one first).
    if (this.redis.status === 'wait') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
