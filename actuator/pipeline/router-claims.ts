/**
 * One rollout per router at a time. A VyOS router has one commit-confirm timer: a second
 * `confirm_time` while one is armed answers "Another confirm is pending", and `{"op":"confirm"}`
 * stops whichever timer is armed, whoever armed it (vyos-facts §1.6, §5.5). A rollout's snapshots
 * and the context it renders from are also only right while nobody else changes the router. So a
 * rollout claims its routers before it snapshots them and holds them until it is confirmed or
 * rolled back.
 *
 * The claim is the record itself: a proposal that is `applying` or `baking` holds the routers of its
 * intents, so an in-flight rollout of a dead actuator keeps holding them until it is resumed. Taking a
 * claim (look at the records, then write `applying`) runs under a short per-router lease in the state
 * store, so two actuators never both find a router free. Emergencies go first: a routine change does
 * not start on a router an approved emergency is waiting for, and an emergency may preempt a routine
 * change baking on its router (the caller decides; see Rollouts).
 */
import type { Proposal } from '../../core/proposal.ts';
import { routersOf } from '../engine.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';

/** Statuses whose rollout holds its routers. */
const holding = new Set(['applying', 'baking']);

export type ClaimResult =
  | { granted: true; release: () => Promise<void> }
  | {
      granted: false;
      router: string;
      /** The proposal holding (or first in line for) the router; absent while another actuator is claiming it. */
      holder?: ProposalRecord;
      reason: 'held' | 'emergency-first' | 'claiming';
    };

const routersOfProposal = (p: Proposal) => routersOf(p.intents);

/** Why `rec` cannot start now, or undefined when every router it touches is free for it. */
function blocker(rec: ProposalRecord, all: ProposalRecord[]): Exclude<ClaimResult, { granted: true }> | undefined {
  const mine = new Set(routersOfProposal(rec.proposal));
  for (const other of all) {
    if (other.proposal.id === rec.proposal.id) continue;
    const shared = routersOfProposal(other.proposal).find((r) => mine.has(r));
    if (shared === undefined) continue;
    if (holding.has(other.proposal.status)) return { granted: false, router: shared, holder: other, reason: 'held' };
    if (other.proposal.status === 'approved' && other.proposal.emergency && !rec.proposal.emergency)
      return { granted: false, router: shared, holder: other, reason: 'emergency-first' };
  }
  return undefined;
}

/** Tries to hold a claim attempt this long (×25 ms on average) before leaving it to the next wake-up. */
const CLAIM_ATTEMPTS = 80;

/** Takes the per-router lease of every router into `taken`; the first router someone else holds, or undefined. */
async function takeAll(
  routers: string[],
  taken: { key: string; token: number }[],
  state: PipelineContext['d']['state'],
  ttlMs: number,
): Promise<string | undefined> {
  for (const router of routers) {
    const key = `router-claim:${router}`;
    const token = await state.acquireLease(key, ttlMs);
    if (token === undefined) return router;
    taken.push({ key, token });
  }
  return undefined;
}

/**
 * Claims the routers `rec` touches. When granted, the caller writes the record's `applying` status
 * (the lasting claim) and then calls `release()` to free the short per-router leases.
 */
export async function claimRouters(ctx: PipelineContext, rec: ProposalRecord): Promise<ClaimResult> {
  const { state, config } = ctx.d;
  // Sorted, so two claimers of overlapping sets take the per-router leases in the same order.
  const routers = [...routersOfProposal(rec.proposal)].sort();
  const taken: { key: string; token: number }[] = [];
  const release = async () => {
    for (const t of taken.splice(0)) await state.releaseLease(t.key, t.token);
  };
  // Another claimer holds a per-router lease only for the moment it looks at the records: wait for it
  // rather than give up, or two claimers that keep meeting (a sweep starts every waiting proposal at
  // once) could each make the other fail for ever.
  for (let attempt = 0; ; attempt++) {
    const busy = await takeAll(routers, taken, state, config.lease_ttl_ms);
    if (busy === undefined) break;
    await release();
    if (attempt >= CLAIM_ATTEMPTS) return { granted: false, router: busy, reason: 'claiming' };
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
  }
  try {
    const blocked = blocker(rec, await state.list());
    if (blocked) {
      await release();
      return blocked;
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { granted: true, release };
}
