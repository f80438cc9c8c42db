/**
 * The console's view of the actuator when the actuator role runs in another process: proposals from
 * the `proposals` table (the optimizer records each one it publishes) with the status their latest
 * audit event implies, and the audit trail from the `changes` table (the actuator publishes every
 * event on the bus; the sink stores it). Read-only: approving or rejecting answers 503 and names where
 * decisions are made instead, so nothing is decided twice or lost.
 */
import { PathpilotError } from '../../core/errors.ts';
import type { Proposal, ProposalStatus } from '../../core/proposal.ts';
import { changeRecord } from '../../core/records/index.ts';
import { list, sql, tableRef } from '../../core/store/index.ts';
import type { Store } from '../../core/store/types.ts';
import { readProposals } from '../../analytics/queries/index.ts';
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
      const rows = await store.query<{ proposal_id: string; last: string; at_s: number | string }>(sql`
        SELECT proposal_id, argMax(event, time) AS last, toUnixTimestamp(max(time)) AS at_s
        FROM ${tableRef(store, 'changes')}
        WHERE proposal_id IN ${list(proposals.map((p) => p.id))} AND event != 'proposed'
        GROUP BY proposal_id`);
      const latest = new Map(rows.map((r) => [r.proposal_id, r]));
      return proposals.map((p) => {
        const ev = latest.get(p.id);
        const status = ev ? statusAfter[ev.last] : undefined;
        if (!status || status === p.status) return p;
        return { ...p, status, history: [...p.history, { status, at: Number(ev!.at_s) * 1000 }] };
      });
    },
    approve: async (id) => readOnly(id),
    reject: async (id) => readOnly(id),
    async events(limit = 200): Promise<ConsoleEvent[]> {
      // A redelivered event (same event_id) counts once, as changesFor reads the trail.
      const rows = await store.query<Record<string, unknown>>(sql`
        SELECT event_id, any(toUnixTimestamp(time)) AS time_s, any(proposal_id) AS proposal_s, any(event) AS event_s,
          any(actor) AS actor_s, any(router) AS router_s, any(step) AS step_s, any(detail) AS detail_s
        FROM ${tableRef(store, 'changes')}
        GROUP BY event_id ORDER BY time_s DESC, event_id DESC LIMIT ${limit}`);
      return rows.reverse().map((r) => {
        const e = changeRecord.fromRow({
          event_id: r.event_id,
          time: r.time_s,
          proposal_id: r.proposal_s,
          event: r.event_s,
          actor: r.actor_s,
          router: r.router_s,
          step: r.step_s,
          detail: r.detail_s,
        });
        return {
          time: e.time,
          proposal_id: e.proposal_id,
          event: e.event,
          ...(e.actor ? { actor: e.actor } : {}),
          ...(e.router ? { router: e.router } : {}),
          ...(e.detail ? { detail: parseDetail(e.detail) } : {}),
        };
      });
    },
    async counts(): Promise<ConsoleCounts> {
      const rows = await store.query<{ event: string; n: number | string }>(sql`
        SELECT event, uniqExact(proposal_id) AS n FROM ${tableRef(store, 'changes')}
        WHERE event IN ${list(['proposed', 'confirmed', 'rolled-back'])} GROUP BY event`);
      const n = (event: string) => Number(rows.find((r) => r.event === event)?.n ?? 0);
      return { proposals: n('proposed'), applied: n('confirmed'), rolled_back: n('rolled-back') };
    },
  };
}

function parseDetail(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsed: text };
  }
}
