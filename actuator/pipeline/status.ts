/**
 * The proposal state machine:
 *
 *   proposed → awaiting-approval → approved → applying ⇄ baking → confirmed
 *                                    │            ├──────────────→ rolled-back | failed
 *                                    │            └──────────────→ drifted → rolled-back | failed | drift-accepted
 *                                    └ rejected | expired
 *
 * `drifted`: someone else changed a touched subtree (drift.ts); an admin rolls back anyway or accepts.
 *
 * Each transition is written to the state store first, then counted, announced (`status` event) and
 * recorded (ClickHouse `proposals` through the recorder; a recording failure is logged and counted only).
 */
import type { EventEmitter } from 'node:events';
import { PathpilotError, errorMessage } from '../../core/errors.ts';
import type { ProposalStatus } from '../../core/proposal.ts';
import type { ProposalRecord, StateStore } from '../state.ts';
import type { PipelineDeps } from './deps.ts';

const transitions: Record<ProposalStatus, ProposalStatus[]> = {
  proposed: ['awaiting-approval', 'approved', 'rejected', 'expired'],
  'awaiting-approval': ['approved', 'rejected', 'expired'],
  approved: ['applying', 'failed', 'rolled-back'],
  applying: ['baking', 'rolled-back', 'failed', 'drifted', 'applying'],
  baking: ['applying', 'confirmed', 'rolled-back', 'failed', 'drifted', 'baking'],
  confirmed: [],
  'rolled-back': [],
  // A rollback that could not finish may be retried by an admin (retryRollback); the retry may find drift.
  failed: ['rolled-back', 'failed', 'drifted'],
  // An admin rolls back anyway (retryRollback, overwriting the drift) or keeps the routers as they are.
  drifted: ['rolled-back', 'failed', 'drift-accepted'],
  'drift-accepted': [],
  rejected: [],
  expired: [],
};

export class StatusMachine {
  constructor(
    private readonly d: PipelineDeps,
    private readonly state: StateStore,
    private readonly events: EventEmitter,
  ) {}

  async set(rec: ProposalRecord, status: ProposalStatus, actor?: string, note?: string): Promise<void> {
    const from = rec.proposal.status;
    if (from !== status && !transitions[from].includes(status))
      throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${rec.proposal.id} is ${from}; it cannot become ${status}`);
    const at = this.d.clock.now();
    rec.proposal.status = status;
    rec.proposal.history.push({ status, at, ...(actor ? { actor } : {}), ...(note ? { note: note.slice(0, 500) } : {}) });
    rec.updatedAt = at;
    await this.state.put(rec);
    this.d.metrics.proposals.inc({ status });
    this.events.emit('status', { id: rec.proposal.id, status, actor, note });
    await this.record(rec);
  }

  /** A new proposal, as intake first writes it. */
  async created(rec: ProposalRecord): Promise<void> {
    await this.state.put(rec);
    this.d.metrics.proposals.inc({ status: rec.proposal.status });
    await this.record(rec);
  }

  /** Records the proposal as it is now besides the state store (also after a change that is no transition). */
  async record(rec: ProposalRecord): Promise<void> {
    if (!this.d.recorder) return;
    try {
      await this.d.recorder.proposal(rec.proposal, rec.updatedAt);
    } catch (err) {
      this.d.metrics.errors.inc({ error_type: 'proposal_record' });
      this.d.log?.warn({ proposal: rec.proposal.id, err: errorMessage(err) }, 'proposal status not recorded in the store');
    }
  }
}
