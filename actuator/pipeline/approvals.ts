/**
 * Approvals: the auto policy on arrival (risk, shift, freeze, rate limit, cool-down — policy.ts), REST and
 * Slack decisions (`approve`, `reject`: one decision per proposal across processes, claimed in the state
 * store), and expiry of undecided proposals. Approval enqueues one job with jobId `apply-<id>`:
 * approving twice applies once, and a second approval of a decided proposal is a no-op.
 */
import { PathpilotError } from '../../core/errors.ts';
import type { Proposal } from '../../core/proposal.ts';
import { RolloutLease } from '../lease.ts';
import { TokenBucket, autoDecide, coolingPairs } from '../policy.ts';
import { contextPaths, maxStepShift, weightsForPrefix } from '../render.ts';
import type { ProposalRecord } from '../state.ts';
import type { RouterApi } from '../vyos/types.ts';
import type { PipelineContext } from './context.ts';
import { notifySlack } from './notify.ts';

type SlackOrigin = { responseUrl?: string };

/** The person behind an actor: the channel it came through (`api:`, `slack:`) removed. */
const person = (actor: string) => actor.replace(/^(api|slack|console):/, '');

export class Approvals {
  private readonly bucket: TokenBucket;

  constructor(private readonly ctx: PipelineContext) {
    const { actuation, clock } = ctx.d;
    this.bucket = new TokenBucket(actuation.rate_limit.changes_per_hour, actuation.rate_limit.burst, clock.now());
  }

  /** A new proposal: approved at once when the policy allows, else it awaits a human (and Slack is told). */
  async arrived(rec: ProposalRecord): Promise<ProposalRecord> {
    const { d } = this.ctx;
    const proposal = rec.proposal;
    const records = await d.state.list();
    const cooldownMs = d.actuation.cooldown_after_rollback_s * 1000;
    const decision = autoDecide(d.actuation, {
      proposal,
      now: d.clock.now(),
      maxStepShift: await this.maxShift(proposal),
      cooling: coolingPairs(records, cooldownMs, 'plans'),
      emergencyCooling: coolingPairs(records, cooldownMs, 'emergencies'),
      bucket: this.bucket,
    });
    if (decision.approve) return this.approve(proposal.id, proposal.emergency ? 'emergency-policy' : 'auto', decision.reason);
    await this.ctx.status.set(rec, 'awaiting-approval', 'actuator', decision.reason);
    await notifySlack(d, rec);
    return rec;
  }

  /** Approves and enqueues the rollout. A second approval of an approved/running/finished proposal is a no-op. */
  async approve(id: string, actor: string, note?: string, slack?: SlackOrigin): Promise<ProposalRecord> {
    const { d, status, audit } = this.ctx;
    const rec = await this.load(id);
    const s = rec.proposal.status;
    if (s !== 'proposed' && s !== 'awaiting-approval') {
      if (s === 'rejected' || s === 'expired')
        throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is ${s}; it can no longer be approved`);
      return rec;
    }
    if (d.actuation.mode === 'observe' && !rec.proposal.emergency)
      throw new PathpilotError('PP_ERR_CONFLICT', 'actuator.mode is observe: nothing is applied');
    // High risk needs distinct approvers (the assessment says how many): each is recorded until the last.
    const required = rec.proposal.assessment?.approvals_required ?? 1;
    if (required > 1) {
      // Counted by person, whatever the channel (api:alice and slack:alice are one), and never the proposer.
      const who = person(actor);
      const proposer = rec.proposal.history[0]?.actor;
      if (proposer !== undefined && person(proposer) === who)
        throw new PathpilotError(
          'PP_ERR_CONFLICT',
          `proposal ${id}: ${who} proposed this high-risk change and cannot approve it`,
        );
      const approvers = await d.state.addApproval(id, who);
      if (approvers.length < required) {
        const why = `approval ${approvers.length} of ${required} (${approvers.join(', ')}): ${rec.proposal.assessment!.level} risk needs another approver`;
        await audit.emit(id, 'approval-recorded', { actor, detail: { approvers, required } });
        // Read again: a second approver may have decided meanwhile, and their decision must not be overwritten.
        const now = await this.load(id);
        if (now.proposal.status === 'proposed' || now.proposal.status === 'awaiting-approval')
          await status.set(now, 'awaiting-approval', actor, why);
        return now;
      }
      note = [note, `approved by ${approvers.join(' and ')}`].filter(Boolean).join('; ');
    }
    if (!(await d.state.claimDecision(id, actor))) return this.decided(id, 'approved');
    rec.decidedBy = actor;
    if (slack?.responseUrl) rec.slack = { responseUrl: slack.responseUrl };
    (rec as ProposalRecord & { approvedAt?: number }).approvedAt = Date.now();
    await status.set(rec, 'approved', actor, note);
    await audit.emit(id, 'approved', { actor, ...(note ? { detail: { note } } : {}) });
    await d.queue.add(d.config.apply_queue, 'apply', { id }, { jobId: `apply-${id}` });
    if (slack?.responseUrl) await notifySlack(d, rec, { status: 'approved', actor });
    return rec;
  }

  async reject(id: string, actor: string, note?: string, slack?: SlackOrigin): Promise<ProposalRecord> {
    const { d, status, audit } = this.ctx;
    const rec = await this.load(id);
    const s = rec.proposal.status;
    if (s === 'rejected') return rec;
    if (s !== 'proposed' && s !== 'awaiting-approval')
      throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is ${s}; it can no longer be rejected`);
    if (!(await d.state.claimDecision(id, actor))) return this.decided(id, 'rejected');
    rec.decidedBy = actor;
    if (slack?.responseUrl) rec.slack = { responseUrl: slack.responseUrl };
    await status.set(rec, 'rejected', actor, note);
    await audit.emit(id, 'rejected', { actor, ...(note ? { detail: { note } } : {}) });
    await notifySlack(d, rec, { status: 'rejected', actor });
    return rec;
  }

  /**
   * An admin keeps a drifted proposal's routers as they are (the other choice is the rollback,
   * `retryRollback`): the proposal ends `drift-accepted` and nothing is sent to a router. Under the
   * rollout lease, so it never races an admin's rollback of the same proposal.
   */
  async acceptDrift(id: string, actor: string, note?: string): Promise<ProposalRecord> {
    const { d, status, audit, records } = this.ctx;
    const lease = await RolloutLease.acquire(d.state, id, { ttlMs: d.config.lease_ttl_ms, ...(d.log ? { log: d.log } : {}) });
    if (!lease) throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being worked on`);
    try {
      const rec = await this.load(id);
      if (rec.proposal.status !== 'drifted')
        throw new PathpilotError(
          'PP_ERR_CONFLICT',
          `proposal ${id} is ${rec.proposal.status}; only a drifted one can be accepted`,
        );
      records.bind(rec, lease);
      const why = note ?? 'the routers are kept as they are';
      await status.set(rec, 'drift-accepted', actor, why);
      await audit.emit(id, 'drift-accepted', { actor, detail: { note: why, drift: rec.error ?? null } });
      await notifySlack(d, rec, { status: 'drift accepted', actor, note: why });
      return rec;
    } finally {
      await lease.release();
    }
  }

  /**
   * Another caller won the decision: wait until its status is visible, then answer like a repeated
   * request (same decision: the record; the other decision: a conflict).
   */
  private async decided(id: string, wanted: 'approved' | 'rejected'): Promise<ProposalRecord> {
    for (let i = 0; i < 50; i++) {
      const rec = await this.load(id);
      const s = rec.proposal.status;
      if (s !== 'proposed' && s !== 'awaiting-approval') {
        if ((wanted === 'rejected') !== (s === 'rejected'))
          throw new PathpilotError(
            'PP_ERR_CONFLICT',
            `proposal ${id} was already decided (${s}) by ${rec.decidedBy ?? 'someone else'}`,
          );
        return rec;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being decided by someone else`);
  }

  async get(id: string): Promise<ProposalRecord | undefined> {
    const rec = await this.ctx.d.state.get(id);
    if (rec) await this.expireIfStale(rec);
    return rec;
  }

  async load(id: string): Promise<ProposalRecord> {
    const rec = await this.get(id);
    if (!rec) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal ${id}`);
    return rec;
  }

  async list(): Promise<ProposalRecord[]> {
    const all = await this.ctx.d.state.list();
    for (const r of all) await this.expireIfStale(r);
    return all.sort((a, b) => b.proposal.created_at - a.proposal.created_at);
  }

  /**
   * A newer plan replaces the undecided plans of the optimizer it overlaps (any router target in common: a prefix's
   * rule, a link's shaper): each is expired, noting which proposal superseded it, unless a decision on it
   * came first (the one-decision claim). Emergencies in flight are never touched.
   */
  async supersede(rec: ProposalRecord): Promise<void> {
    const { d, status, audit } = this.ctx;
    const mine = new Set(targetsOf(rec.proposal));
    const id = rec.proposal.id;
    for (const other of await d.state.list()) {
      if (other.proposal.id === id || !isOptimizerPlanPending(other)) continue;
      if (!targetsOf(other.proposal).some((t) => mine.has(t))) continue;
      if (!(await d.state.claimDecision(other.proposal.id, `superseded-by:${id}`))) continue;
      await status.set(other, 'expired', 'actuator', `superseded by ${id}`);
      await audit.emit(other.proposal.id, 'expired', { actor: 'actuator', detail: { superseded_by: id } });
    }
  }

  /** When an undecided proposal created at `createdAt` expires. */
  expiresAt(createdAt: number): number {
    return createdAt + this.ctx.d.actuation.proposal_ttl_s * 1000;
  }

  private async expireIfStale(rec: ProposalRecord): Promise<void> {
    const s = rec.proposal.status;
    if ((s === 'proposed' || s === 'awaiting-approval') && this.expiresAt(rec.proposal.created_at) < this.ctx.d.clock.now()) {
      await this.ctx.status.set(rec, 'expired', 'actuator', `not decided within ${this.ctx.d.actuation.proposal_ttl_s} s`);
      await this.ctx.audit.emit(rec.proposal.id, 'expired', { actor: 'actuator' });
    }
  }

  /** The largest traffic shift a step of `p` moves, from the routers' current WAN rules. */
  private async maxShift(p: Proposal): Promise<number> {
    const { d } = this.ctx;
    if (!p.intents.some((i) => i.kind === 'path-weights')) return 0;
    const rules = new Map<string, Awaited<ReturnType<RouterApi['showConfig']>>>();
    try {
      for (const router of new Set(p.intents.filter((i) => i.kind === 'path-weights').map((i) => i.router)))
        rules.set(router, await d.routerFor(router).showConfig([...contextPaths.lbRules]));
    } catch {
      return 1; // Unknown current weights: assume the worst, a human decides.
    }
    return maxStepShift(
      p.intents,
      d.actuation.rollout_steps,
      (intent, prefix) => weightsForPrefix(rules.get(intent.router) ?? null, prefix),
      (router, link) => d.topology.linkEnd(link, router)?.interface ?? link,
    );
  }
}

/**
 * What a proposal changes on the routers, one key per rule, shaper or tunnel interface: `router|prefix`,
 * `router|link`, `router|wgN`, `router|vtunN`, `router|ipsec PEER` or `router|config PATH` (a whole subtree).
 */
export function targetsOf(p: Proposal): string[] {
  return p.intents.flatMap((i) =>
    i.kind === 'path-weights' || i.kind === 'class-pin'
      ? i.dst_prefixes.map((x) => `${i.router}|${x}`)
      : i.kind === 'wireguard-peers'
        ? [`${i.router}|${i.interface}`]
        : i.kind === 'ipsec-peer'
          ? [`${i.router}|ipsec ${i.peer}`]
          : i.kind === 'openvpn-site'
            ? [`${i.router}|${i.interface}`]
            : i.kind === 'firewall-rules'
              ? [`${i.router}|firewall ${i.family ?? 'ipv4'} ${i.chain ?? 'forward'} ${i.first}-${i.last}`]
              : i.kind === 'firewall-group'
                ? [`${i.router}|network-group ${i.group}`]
                : i.kind === 'config-subtrees'
                  ? i.subtrees.map((s) => `${i.router}|config ${s.path.join(' ')}`)
                  : i.kind === 'bgp-policy'
                    ? [`${i.router}|bgp ${i.neighbor} ${i.direction}`]
                    : [`${i.router}|${i.link}`],
  );
}

/** An optimizer plan still waiting for a decision (the ones a newer plan may supersede). */
export function isOptimizerPlanPending(r: ProposalRecord): boolean {
  const s = r.proposal.status;
  return (s === 'proposed' || s === 'awaiting-approval') && r.proposal.history[0]?.actor === 'optimizer';
}
