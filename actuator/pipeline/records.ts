/**
 * The state store as the pipeline writes it: a record bound to a rollout lease is written only under
 * that lease (fenced by its token), and every write bumps `revision` so readers (the API's list) can
 * cache derived views per revision.
 */
import type { Realized } from '../../core/proposal.ts';
import type { RolloutLease } from '../lease.ts';
import type { ProposalRecord, StateStore } from '../state.ts';

export class RecordStore implements StateStore {
  /** Bumped on every write of a record. */
  revision = 0;
  /** The lease each rollout's record is written under: its writes are fenced by the token. */
  private readonly leases = new WeakMap<ProposalRecord, RolloutLease>();

  constructor(private readonly state: StateStore) {}

  /** From now on `rec` is written only while `lease` holds. */
  bind(rec: ProposalRecord, lease: RolloutLease): void {
    this.leases.set(rec, lease);
  }

  start = () => this.state.start();
  stop = () => this.state.stop();
  get = (id: string) => this.state.get(id);
  list = () => this.state.list();
  claimDecision = (id: string, actor: string) => this.state.claimDecision(id, actor);
  addApproval = (id: string, actor: string) => this.state.addApproval(id, actor);
  acquireLease = (id: string, ttlMs: number, over?: number) => this.state.acquireLease(id, ttlMs, over);
  renewLease = (id: string, token: number, ttlMs: number) => this.state.renewLease(id, token, ttlMs);
  releaseLease = (id: string, token: number) => this.state.releaseLease(id, token);

  async putRealized(id: string, realized: Realized): Promise<ProposalRecord | undefined> {
    const rec = await this.state.putRealized(id, realized);
    if (rec) this.revision++;
    return rec;
  }

  async putFenced(rec: ProposalRecord, token: number): Promise<boolean> {
    const ok = await this.state.putFenced(rec, token);
    if (ok) this.revision++;
    return ok;
  }

  async put(rec: ProposalRecord): Promise<void> {
    const lease = this.leases.get(rec);
    if (lease) await this.putUnderLease(rec, lease);
    else await this.state.put(rec);
    this.revision++;
  }

  /**
   * A record written under a lease: only while the lease is held with its token. A store error
   * pauses (the lease check waits with backoff until the store answers or the lease deadline
   * passes) and writes again; a refused write means another actuator holds the rollout now.
   */
  private async putUnderLease(rec: ProposalRecord, lease: RolloutLease): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (await this.state.putFenced(rec, lease.token)) return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await lease.check();
        continue;
      }
      lease.markLost('the record is fenced by a newer token');
      throw lease.lostError();
    }
  }
}
