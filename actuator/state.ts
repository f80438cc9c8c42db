/**
 * Where proposals and their rollout state live: Redis (production; survives a kill -9 and is read
 * back on start) or memory (`npm start`, unit tests). One JSON document per proposal, written whole
 * (Redis `HSET` is atomic per field), so a crash never leaves a half-written record.
 *
 * The store also holds each rollout's lease (see lease.ts): Redis `SET key token NX PX ttl` with the
 * token from `INCR`, renewal, release and fenced writes by compare-and-set in Lua scripts (the
 * Redlock single-instance recipe), so a rollout's record is only written by its lease holder.
 */
import { Redis } from 'ioredis';
import type { Proposal, Realized } from '../core/proposal.ts';
import type { RolloutState } from './engine.ts';
import type { LeaseStore } from './lease.ts';

export interface ProposalRecord {
  proposal: Proposal;
  rollout?: RolloutState;
  /** Who approved or rejected. */
  decidedBy?: string;
  /** Last error or rollback reason. */
  error?: string;
  /** Slack message to update (interactivity `response_url`). */
  slack?: { responseUrl?: string };
  updatedAt: number;
}

export interface StateStore extends LeaseStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  get(id: string): Promise<ProposalRecord | undefined>;
  put(record: ProposalRecord): Promise<void>;
  list(): Promise<ProposalRecord[]>;
  /**
   * Records the one decision (approve/reject) a proposal gets: true for the first caller, false for
   * every later one, across processes (Redis HSETNX). Approving twice applies once.
   */
  claimDecision(id: string, actor: string): Promise<boolean>;
  /**
   * Records one approver of a proposal that needs several (high risk: two): the distinct approvers so far,
   * across processes (a Redis set). The same actor approving twice counts once.
   */
  addApproval(id: string, actor: string): Promise<string[]>;
  /**
   * Writes the record only while its proposal's rollout lease is held with `token` (one atomic
   * step): false, and nothing written, when the lease expired or another actuator took it.
   */
  putFenced(record: ProposalRecord, token: number): Promise<boolean>;
  /**
   * Sets the proposal's measured `realized` effect (and `updatedAt` to its `measured_at`) on the stored
   * record, whatever else a concurrent writer changed in it meanwhile: the record as written, or undefined
   * when it is gone or already has one (a second actuator measuring it too writes nothing, posts nothing).
   */
  putRealized(id: string, realized: Realized): Promise<ProposalRecord | undefined>;
}

/** The record with `realized` set, or undefined when it already has one. */
function withRealized(rec: ProposalRecord, realized: Realized): ProposalRecord | undefined {
  if (rec.proposal.realized !== undefined) return undefined;
  return { ...rec, proposal: { ...rec.proposal, realized }, updatedAt: realized.measured_at };
}

export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, string>();
  private readonly decisions = new Map<string, string>();
  /** Leases on the wall clock, like Redis PX. */
  private readonly leases = new Map<string, { token: number; until: number }>();
  private leaseSeq = 0;
  private holder(id: string): number | undefined {
    const l = this.leases.get(id);
    return l && l.until > Date.now() ? l.token : undefined;
  }
  async acquireLease(id: string, ttlMs: number): Promise<number | undefined> {
    const token = ++this.leaseSeq;
    if (this.holder(id) !== undefined) return undefined;
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
  async putFenced(record: ProposalRecord, token: number): Promise<boolean> {
    if (this.holder(record.proposal.id) !== token) return false;
    await this.put(record);
    return true;
  }
  private readonly approvals = new Map<string, Set<string>>();
  async addApproval(id: string, actor: string): Promise<string[]> {
    let set = this.approvals.get(id);
    if (!set) this.approvals.set(id, (set = new Set()));
    set.add(actor);
    return [...set];
  }
  async claimDecision(id: string, actor: string): Promise<boolean> {
    if (this.decisions.has(id)) return false;
    this.decisions.set(id, actor);
    return true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async get(id: string): Promise<ProposalRecord | undefined> {
    const s = this.data.get(id);
    return s === undefined ? undefined : (JSON.parse(s) as ProposalRecord);
  }
  async put(record: ProposalRecord): Promise<void> {
    this.data.set(record.proposal.id, JSON.stringify(record));
  }
  async list(): Promise<ProposalRecord[]> {
    return [...this.data.values()].map((s) => JSON.parse(s) as ProposalRecord);
  }
  async putRealized(id: string, realized: Realized): Promise<ProposalRecord | undefined> {
    const rec = await this.get(id);
    const next = rec && withRealized(rec, realized);
    if (next) await this.put(next);
    return next;
  }
}

// Lua: KEYS[1] lease key. Every script compares the token first, so only the holder renews, releases or writes.
const acquireScript = `local t = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], t, 'NX', 'PX', ARGV[1]) then return t end
return false`;
const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// Compare-and-set of one record: written only while the stored JSON is still the one the caller read.
const casPutScript = `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;
const fencedPutScript = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;

export class RedisStateStore implements StateStore {
  private redis: Redis | undefined;
  private readonly key: string;
  private readonly leasePrefix: string;
  constructor(
    private readonly url: string,
    prefix: string,
  ) {
    this.key = `${prefix}:proposals`;
    this.leasePrefix = `${prefix}:lease`;
  }
  private leaseKey(id: string): string {
    return `${this.leasePrefix}:${id}`;
  }
  async acquireLease(id: string, ttlMs: number): Promise<number | undefined> {
    // The token sequence is one counter for all leases: tokens only grow (INCR), even across proposals.
    const t = await this.r.eval(acquireScript, 2, this.leaseKey(id), `${this.leasePrefix}-seq`, String(ttlMs));
    return t === null ? undefined : Number(t);
  }
  async renewLease(id: string, token: number, ttlMs: number): Promise<boolean> {
    return (await this.r.eval(renewScript, 1, this.leaseKey(id), String(token), String(ttlMs))) === 1;
  }
  async releaseLease(id: string, token: number): Promise<void> {
    await this.r.eval(releaseScript, 1, this.leaseKey(id), String(token));
  }
  async putFenced(record: ProposalRecord, token: number): Promise<boolean> {
    const id = record.proposal.id;
    const ok = await this.r.eval(fencedPutScript, 2, this.leaseKey(id), this.key, String(token), id, JSON.stringify(record));
    return ok === 1;
  }
  private get r(): Redis {
    if (!this.redis) throw new Error('actuator state store: not started');
    return this.redis;
  }
  async start(): Promise<void> {
    this.redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    // While Redis is down ioredis reconnects on its own and every command fails to its caller (the
    // rollout pauses on its lease); the connection errors themselves need no handler of their own.
    this.redis.on('error', () => undefined);
    await this.redis.connect();
  }
  async stop(): Promise<void> {
    const r = this.redis;
    this.redis = undefined;
    await r?.quit().catch(() => r.disconnect());
  }
  async get(id: string): Promise<ProposalRecord | undefined> {
    const s = await this.r.hget(this.key, id);
    return s === null ? undefined : (JSON.parse(s) as ProposalRecord);
  }
  async put(record: ProposalRecord): Promise<void> {
    await this.r.hset(this.key, record.proposal.id, JSON.stringify(record));
  }
  async list(): Promise<ProposalRecord[]> {
    const all = await this.r.hvals(this.key);
    return all.map((s) => JSON.parse(s) as ProposalRecord);
  }
  async putRealized(id: string, realized: Realized): Promise<ProposalRecord | undefined> {
    // Read, set, compare-and-set: a record rewritten meanwhile (a status write) is read again, so the
    // figures never overwrite a newer record and a newer record never loses them.
    for (let attempt = 0; attempt < 10; attempt++) {
      const stored = await this.r.hget(this.key, id);
      if (stored === null) return undefined;
      const next = withRealized(JSON.parse(stored) as ProposalRecord, realized);
      if (!next) return undefined;
      if ((await this.r.eval(casPutScript, 1, this.key, id, stored, JSON.stringify(next))) === 1) return next;
    }
    throw new Error(`proposal ${id}: record kept changing while its realized effect was written`);
  }
  async claimDecision(id: string, actor: string): Promise<boolean> {
    return (await this.r.hsetnx(`${this.key}:decisions`, id, actor)) === 1;
  }
  async addApproval(id: string, actor: string): Promise<string[]> {
    const key = `${this.key}:approvals:${id}`;
    // The set outlives any decision window (proposals expire long before), then goes.
    const [added, , members] =
      (await this.r
        .multi()
        .sadd(key, actor)
        .expire(key, 30 * 86_400)
        .smembers(key)
        .exec()) ?? [];
    if (!added || added[0] || !members || members[0]) throw new Error(`proposal ${id}: the approval could not be recorded`);
    return (members[1] as string[]).sort();
  }
  /** Tests clean up after themselves. */
  async clear(): Promise<void> {
    const leases = await this.r.keys(`${this.leasePrefix}*`);
    const approvals = await this.r.keys(`${this.key}:approvals:*`);
    await this.r.del(this.key, `${this.key}:decisions`, ...leases, ...approvals);
  }
}
