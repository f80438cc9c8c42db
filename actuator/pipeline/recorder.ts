/**
 * Where proposal status transitions are recorded besides the state store: ClickHouse's `proposals` table
 * (through `saveProposal`, as the optimizer records the proposals it publishes) is the system of record the
 * dashboards, the console and the CLI read. The roles record through `storeProposalRecorder`; tests may
 * keep them in memory. A recording failure is logged and counted by the caller, never fails the rollout.
 */
import type { Proposal } from '../../core/proposal.ts';
import type { Store } from '../../core/store/types.ts';
import { saveProposal } from '../../analytics/queries/writes.ts';
import { redactSecrets } from '../../core/redact.ts';

export interface ProposalRecorder {
  /** Records the proposal as it is at `at` (its status and history included). */
  proposal(proposal: Proposal, at: number): Promise<void>;
}

export function storeProposalRecorder(store: Store): ProposalRecorder {
  // The proposals table is read by the console and the CLI: PSKs and static keys stay out of it.
  return { proposal: (p, at) => saveProposal(store, redactSecrets(p), at) };
}

export interface MemoryProposalRecorder extends ProposalRecorder {
  readonly recorded: { id: string; status: Proposal['status']; at: number }[];
}

export function memoryProposalRecorder(): MemoryProposalRecorder {
  const recorded: MemoryProposalRecorder['recorded'] = [];
  return {
    recorded,
    async proposal(p, at) {
      recorded.push({ id: p.id, status: p.status, at });
    },
  };
}
