/**
 * Where proposals and their rollout state live: Redis (production; survives a kill -9 and is read
 * back on start) or memory (`npm start`, unit tests). One JSON document per proposal, written whole
 * (Redis `HSET` is atomic per field), so a crash never leaves a half-written record.
 *
 * The store also holds each rollout's lease (see lease.ts) and the actuator's leadership (core/leader.ts):
 * Redis `SET key token NX PX ttl` with the token from `INCR`, renewal, release (core/lease.ts) and fenced
 * writes by compare-and-set in Lua scripts (the Redlock single-instance recipe), so a rollout's record is
 * only written by its lease holder. Leases and leadership share one token sequence, so a leader's epoch
 * is newer than every rollout token handed out before its election.
 */
import { MemoryLeases, RedisLeaseStore } from '../core/lease.ts';
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

/** Records in maps; leases on the wall clock, like Redis PX (MemoryLeases). */
export class MemoryStateStore extends MemoryLeases implements StateStore {
  private readonly data = new Map<string, string>();
  private readonly decisions = new Map<string, string>();
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

// Compare-and-set of one record: written only while the stored JSON is still the one the caller read.
const casPutScript = `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`;
// A fenced write: KEYS[1] the lease key (core/lease.ts); the record is written only while it holds the writer's token.
const fencedPutScript = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;

/** Records in one hash; rollout leases and the leadership under `<prefix>:lease:<id>` (core/lease.ts). */
export class RedisStateStore extends RedisLeaseStore implements StateStore {
  private readonly key: string;
  constructor(url: string, prefix: string) {
    super(url, `${prefix}:lease`, 'actuator state store');
    this.key = `${prefix}:proposals`;
  }
  async putFenced(record: ProposalRecord, token: number): Promise<boolean> {
    const id = record.proposal.id;
    const ok = await this.redis.eval(fencedPutScript, 2, this.keyOf(id), this.key, String(token), id, JSON.stringify(record));
    return ok === 1;
  }
  async get(id: string): Promise<ProposalRecord | undefined> {
    const s = await this.redis.hget(this.key, id);
    return s === null ? undefined : (JSON.parse(s) as ProposalRecord);
  }
  async put(record: ProposalRecord): Promise<void> {
    await this.redis.hset(this.key, record.proposal.id, JSON.stringify(record));
  }
  async list(): Promise<ProposalRecord[]> {
    const all = await this.redis.hvals(this.key);
    return all.map((s) => JSON.parse(s) as ProposalRecord);
  }
  async putRealized(id: string, realized: Realized): Promise<ProposalRecord | undefined> {
    // Read, set, compare-and-set: a record rewritten meanwhile (a status write) is read again, so the
    // figures never overwrite a newer record and a newer record never loses them.
    for (let attempt = 0; attempt < 10; attempt++) {
      const stored = await this.redis.hget(this.key, id);
      if (stored === null) return undefined;
      const next = withRealized(JSON.parse(stored) as ProposalRecord, realized);
      if (!next) return undefined;
      if ((await this.redis.eval(casPutScript, 1, this.key, id, stored, JSON.stringify(next))) === 1) return next;
    }
    throw new Error(`proposal ${id}: record kept changing while its realized effect was written`);
  }
  async claimDecision(id: string, actor: string): Promise<boolean> {
    return (await this.redis.hsetnx(`${this.key}:decisions`, id, actor)) === 1;
  }
  async addApproval(id: string, actor: string): Promise<string[]> {
    const key = `${this.key}:approvals:${id}`;
    // The set outlives any decision window (proposals expire long before), then goes.
    const [added, , members] =
      (await this.redis
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
    const leases = await this.redis.keys(`${this.leasePrefix}*`);
    const approvals = await this.redis.keys(`${this.key}:approvals:*`);
    await this.redis.del(this.key, `${this.key}:decisions`, ...leases, ...approvals);
  }
}
