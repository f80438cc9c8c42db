/**
 * Where proposals and their rollout state live: Redis (production; survives a kill -9 and is read
 * back on start) or memory (`npm start`, unit tests). One JSON document per proposal, written whole
 * (Redis `HSET` is atomic per field), so a crash never leaves a half-written record.
 */
import { Redis } from 'ioredis';
import type { Proposal } from '../core/proposal.ts';
import type { RolloutState } from './engine.ts';

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

export interface StateStore {
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
}

export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, string>();
  private readonly decisions = new Map<string, string>();
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
}

export class RedisStateStore implements StateStore {
  private redis: Redis | undefined;
  private readonly key: string;
  constructor(
    private readonly url: string,
    prefix: string,
  ) {
    this.key = `${prefix}:proposals`;
  }
  private get r(): Redis {
    if (!this.redis) throw new Error('actuator state store: not started');
    return this.redis;
  }
  async start(): Promise<void> {
    this.redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
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
  async claimDecision(id: string, actor: string): Promise<boolean> {
    return (await this.r.hsetnx(`${this.key}:decisions`, id, actor)) === 1;
  }
  /** Tests clean up after themselves. */
  async clear(): Promise<void> {
    await this.r.del(this.key, `${this.key}:decisions`);
  }
}
