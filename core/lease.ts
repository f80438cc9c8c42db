/**
 * Leases with a fencing token, held in a store every process shares (Redis) or in this process (memory):
 * what a rollout (actuator/lease.ts) and a role's leadership (core/leader.ts) are built on.
 *
 * `HeldLease.acquire()` takes a lease (Redis `SET NX PX` with a token from `INCR`, so a token is greater
 * than every token handed out before it). While it is held a timer renews it (compare-and-set on the
 * token), and `check()` renews it once more before every write it guards. A lease that is lost — taken
 * over after expiry, or not renewable before its deadline because the store is unreachable — aborts
 * `signal` and makes every later `check()` throw `LeaseLostError`.
 *
 * Why a deadline and not just "renew failed": while the store cannot be reached we cannot know whether
 * another holder took over, but we do know nobody can before our TTL runs out. Until then `check()` waits
 * and retries (backoff), so a short store blip only pauses the holder.
 */
import { Redis } from 'ioredis';
import { errorMessage, PathpilotError } from './errors.ts';
import type { Logger } from './log.ts';

/** The lease operations a store offers (memory for unit tests and `npm start`, Redis in production). */
export interface LeaseStore {
  /**
   * Takes the lease of `id` when free: a fencing token, or undefined when another holder has it. With
   * `over`, a lease held with a token below `over` is taken too: a leader of epoch `over` takes over
   * what holders before its election left (their tokens are older than its epoch; see core/leader.ts).
   */
  acquireLease(id: string, ttlMs: number, over?: number): Promise<number | undefined>;
  /** Extends the lease while it is held with `token`; false when it expired or someone else holds it. */
  renewLease(id: string, token: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up when it is still held with `token` (a no-op otherwise). */
  releaseLease(id: string, token: number): Promise<void>;
}

export interface LeaseOptions {
  /** Lease time to live; a killed holder's lease is free for another process after this long. */
  ttlMs: number;
  /** Renewal period. @defaultValue ttlMs / 3 */
  renewMs?: number;
  /** Take the lease over from a holder whose token is below this (see `LeaseStore.acquireLease`). */
  over?: number;
  log?: Logger;
}

/** A lease was lost: its holder stops and touches nothing more under it. */
export class LeaseLostError extends PathpilotError {
  constructor(
    readonly leaseId: string,
    reason: string,
    /** What the lease guards, for the message. */
    what = `lease ${leaseId}`,
  ) {
    super('PP_ERR_CONFLICT', `${what} lost: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

/** True when `err` or one of its causes is a lost lease (router errors wrap it). */
export function isLeaseLost(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++)
    if (e instanceof LeaseLostError) return true;
  return false;
}

export class HeldLease {
  private readonly controller = new AbortController();
  private lostReason: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Fires when the TTL runs out without a confirmed renewal: nobody may act on the lease after it. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  /** Rejects once the lease is lost: store calls that hang (store down) never outlive the lease. */
  private readonly lostPromise: Promise<never>;

  protected constructor(
    private readonly store: LeaseStore,
    readonly id: string,
    readonly token: number,
    private readonly o: LeaseOptions,
    takenAt: number,
    /** What the lease guards, in logs and errors ("rollout lease of p-1", "actuator leadership"). */
    private readonly what = `lease ${id}`,
  ) {
    this.lostPromise = new Promise<never>((_, reject) =>
      this.controller.signal.addEventListener('abort', () => reject(this.lostError()), { once: true }),
    );
    this.lostPromise.catch(() => undefined);
    this.extend(takenAt);
    const every = Math.max(50, o.renewMs ?? Math.floor(o.ttlMs / 3));
    this.renewTimer = setInterval(() => void this.renewOnce(), every);
    this.renewTimer.unref();
  }

  /** Takes the lease `id`; undefined when another holder has it. */
  static acquire(store: LeaseStore, id: string, o: LeaseOptions): Promise<HeldLease | undefined> {
    return HeldLease.take(store, id, o, (token, takenAt) => new HeldLease(store, id, token, o, takenAt));
  }

  /** Asks the store for the lease and builds the holder (`make`, a subclass's constructor) once granted. */
  protected static async take<L extends HeldLease>(
    store: LeaseStore,
    id: string,
    o: LeaseOptions,
    make: (token: number, takenAt: number) => L,
  ): Promise<L | undefined> {
    const takenAt = Date.now();
    const token = await store.acquireLease(id, o.ttlMs, o.over);
    return token === undefined ? undefined : make(token, takenAt);
  }

  /** Aborted when the lease is lost or released (a wait on it stops). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  /** Why the lease was lost ('released' after `release()`), or undefined while it holds. */
  get reason(): string | undefined {
    return this.lostReason;
  }

  lostError(): LeaseLostError {
    return new LeaseLostError(this.id, this.lostReason ?? 'released', this.what);
  }

  /** Gives the lease up as lost (a fenced write was refused): nothing more is sent under it. */
  markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.stopTimers();
    this.o.log?.warn({ lease: this.id, reason }, `${this.what} lost; its holder stops here`);
    this.controller.abort(this.lostError());
  }

  /**
   * A renewal asked at `askedAt` was confirmed: the store keeps the key at least until
   * askedAt + TTL (the request was sent after askedAt), so that is when the local deadline falls.
   */
  private extend(askedAt: number): void {
    if (this.lost) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => this.markLost('no renewal confirmed within the lease TTL (state store unreachable)'),
      Math.max(0, askedAt + this.o.ttlMs - Date.now()),
    );
    this.deadlineTimer.unref();
  }

  private stopTimers(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }

  /** One renewal round trip, abandoned when the lease is lost meanwhile. */
  private async renewAt(): Promise<boolean> {
    const askedAt = Date.now();
    const ok = await Promise.race([this.store.renewLease(this.id, this.token, this.o.ttlMs), this.lostPromise]);
    if (ok) this.extend(askedAt);
    else this.markLost('the store holds another token (expired and taken over)');
    return ok;
  }

  private renewOnce(): Promise<void> {
    if (this.renewing) return this.renewing;
    this.renewing = (async () => {
      if (this.lost) return;
      try {
        await this.renewAt();
      } catch {
        // Unreachable store: the deadline timer decides when that loses the lease.
      }
    })().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /**
   * Passes while the lease is held with this token (renewing it); waits with backoff while the
   * store cannot be reached, and throws `LeaseLostError` once the lease is lost or its deadline passed.
   */
  async check(): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (this.lost) throw this.lostError();
      try {
        if (await this.renewAt()) return;
      } catch (err) {
        if (this.lost) throw this.lostError();
        this.o.log?.warn({ lease: this.id, err: errorMessage(err) }, `${this.what} check: store unreachable, waiting`);
        const pause = new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
        await Promise.race([pause, this.lostPromise]).catch(() => undefined);
      }
    }
    this.markLost('lease check gave up');
    throw this.lostError();
  }

  /** Stops renewing and frees the lease for the next holder (best effort: it expires anyway). */
  async release(): Promise<void> {
    this.stopTimers();
    if (this.lost) return;
    this.lostReason = 'released';
    this.controller.abort(this.lostError());
    try {
      await this.store.releaseLease(this.id, this.token);
    } catch (err) {
      this.o.log?.warn({ lease: this.id, err: errorMessage(err) }, `${this.what}: release failed; it expires on its own`);
    }
  }
}

/** Leases of one process, on the wall clock like Redis PX (unit tests, `npm start`). */
export class MemoryLeases implements LeaseStore {
  private readonly leases = new Map<string, { token: number; until: number }>();
  private seq = 0;

  /** The token `id` is held with now, if any. */
  holder(id: string): number | undefined {
    const l = this.leases.get(id);
    return l && l.until > Date.now() ? l.token : undefined;
  }

  async acquireLease(id: string, ttlMs: number, over = 0): Promise<number | undefined> {
    const held = this.holder(id);
    if (held !== undefined && held >= over) return undefined;
    const token = ++this.seq;
    this.leases.set(id, { token, until: Date.now() + ttlMs });
    return token;
  }

  async renewLease(id: string, token: number, ttlMs: number): Promise<boolean> {
    if (this.holder(id) !== token) return false;
    this.leases.set(id, { token, until: Date.now() + ttlMs });
    return true;
  }

  async releaseLease(id: string, token: number): Promise<void> {
    if (this.holder(id) === token) this.leases.delete(id);
  }
}

// Lua: KEYS[1] the lease key, KEYS[2] the token sequence. Every script compares the token first, so only
// the holder renews or releases; a lease is taken when free, or over a holder older than ARGV[2] (0: never).
const acquireScript = `local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then return false end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], t, 'PX', ARGV[1])
return t`;
const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Leases in Redis under `<prefix>:<id>`, tokens from one counter `<prefix>-seq` for all of them (tokens
 * only grow, across ids): the single-instance Redlock recipe, each operation one Lua script.
 */
export class RedisLeases implements LeaseStore {
  constructor(
    /** The connection (a getter: its owner opens it in start()). */
    private readonly client: () => Redis,
    readonly leasePrefix: string,
  ) {}

  keyOf(id: string): string {
    return `${this.leasePrefix}:${id}`;
  }

  async acquireLease(id: string, ttlMs: number, over = 0): Promise<number | undefined> {
    const t = await this.client().eval(acquireScript, 2, this.keyOf(id), `${this.leasePrefix}-seq`, String(ttlMs), String(over));
    return t === null ? undefined : Number(t);
  }

  async renewLease(id: string, token: number, ttlMs: number): Promise<boolean> {
    return (await this.client().eval(renewScript, 1, this.keyOf(id), String(token), String(ttlMs))) === 1;
  }

  async releaseLease(id: string, token: number): Promise<void> {
    await this.client().eval(releaseScript, 1, this.keyOf(id), String(token));
  }
}

/**
 * A Redis connection for a store: while Redis is down ioredis reconnects on its own and every command
 * fails to its caller (a lease holder pauses on its deadline); the connection errors themselves need no
 * handler of their own.
 */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** Closes a connection from `openRedis` (a quit that fails disconnects). */
export async function closeRedis(redis: Redis | undefined): Promise<void> {
  await redis?.quit().catch(() => redis.disconnect());
}

/**
 * Leases in a Redis of their own connection, opened by start(): a role without a state store (the
 * optimizer), and the base of the actuator's state store, which keeps its records on the same connection.
 */
export class RedisLeaseStore extends RedisLeases {
  private readonly conn: { redis?: Redis };
  private readonly name: string;
  constructor(
    private readonly url: string,
    leasePrefix: string,
    /** Names the store in the error of a call before start(). */
    name = `lease store ${leasePrefix}`,
  ) {
    const conn: { redis?: Redis } = {};
    super(() => {
      if (!conn.redis) throw new Error(`${name}: not started`);
      return conn.redis;
    }, leasePrefix);
    this.conn = conn;
    this.name = name;
  }

  /** The open connection (throws before start()). */
  protected get redis(): Redis {
    if (!this.conn.redis) throw new Error(`${this.name}: not started`);
    return this.conn.redis;
  }

  async start(): Promise<void> {
    // While Redis is down every command fails to its caller: a lease holder pauses on its deadline.
    this.conn.redis = await openRedis(this.url);
  }

  async stop(): Promise<void> {
    const r = this.conn.redis;
    delete this.conn.redis;
    await closeRedis(r);
  }
}
