/**
 * The console's view of the actuator when the actuator role runs in another process: proposals from
 * the `proposals` table (the optimizer records each one it publishes) with the status their latest
 * audit event implies, and the audit trail from the `changes` table (the actuator publishes every
 * event on the bus; the sink stores it). Read-only: approving or rejecting answers 503 and names where
 * decisions are made instead, so nothing is decided twice or lost.
 */
import { PathpilotError } from '../../core/errors.ts';
import type { Proposal, ProposalStatus } from '../../core/proposal.ts';
import type { Store } from '../../core/store/types.ts';
import { latestChangeEvents, proposalsPerEvent, readProposals, recentChanges } from '../../analytics/queries/index.ts';
import { toConsoleEvent } from './events.ts';
import type { ConsoleActuator, ConsoleCounts, ConsoleEvent } from './types.ts';

/** The status an audit event leaves a proposal in (events without one — `proposed` — keep the stored status). */
const statusAfter: Partial<Record<string, ProposalStatus>> = {
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  applying: 'applying',
  applied: 'applying',
  'step-applied': 'applying',
  baking: 'baking',
  'guard-pass': 'baking',
  'guard-fail': 'baking',
  'guard-inconclusive': 'baking',
  'rolled-back': 'rolled-back',
  confirmed: 'confirmed',
  failed: 'failed',
  drifted: 'drifted',
  'drift-accepted': 'drift-accepted',
};

/** How many proposals the list shows at most (newest first), as the in-process actuator keeps. */
const listLimit = 500;

export function storeAudit(store: Store): ConsoleActuator {
  const readOnly = (id: string): never => {
    throw new PathpilotError(
      'PP_ERR_SERVICE',
      `cannot decide proposal "${id}" here: the actuator role does not run in this process; approve or reject through the process that runs it (its API or Slack)`,
    );
  };
  return {
    decides: false,
    async list(): Promise<Proposal[]> {
      const proposals = await readProposals(store, { limit: listLimit });
      if (proposals.length === 0) return [];
      const latest = await latestChangeEvents(
        store,
        proposals.map((p) => p.id),
      );
      return proposals.map((p) => {
        const ev = latest.get(p.id);
        const status = ev ? statusAfter[ev.event] : undefined;
        if (!status || status === p.status) return p;
        return { ...p, status, history: [...p.history, { status, at: ev!.time }] };
      });
    },
    approve: async (id) => readOnly(id),
    reject: async (id) => readOnly(id),
    async events(limit = 200): Promise<ConsoleEvent[]> {
      // A redelivered event (same event_id) counts once.
      return (await recentChanges(store, { limit })).reverse().map(toConsoleEvent);
    },
    async counts(): Promise<ConsoleCounts> {
      const n = await proposalsPerEvent(store, ['proposed', 'confirmed', 'rolled-back']);
      return { proposals: n['proposed']!, applied: n['confirmed']!, rolled_back: n['rolled-back']! };
    },
  };
}
