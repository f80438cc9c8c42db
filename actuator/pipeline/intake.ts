/**
 * Intake: the one consumer of the optimizer's proposal queue, and the one door every proposal enters
 * by (queue, REST, self-heal). A proposal is validated, checked against the topology and rendered once
 * against an empty config (unknown links and conflicting intents fail here, before any approval),
 * recorded, audited, and handed to approvals. Idempotent on id; for the optimizer's plans also on content
 * while one with the same intents waits for a decision, and a new plan supersedes the undecided plans it
 * overlaps (proposals from people and self-heal are left to people). A bad
 * proposal on the queue is counted and logged; it never stops the consumer.
 */
import { ValidationError, errorMessage } from '../../core/errors.ts';
import { proposalQueueName, proposalSchema, type Proposal, type ProposalInput } from '../../core/proposal.ts';
import type { QueueWorker } from '../../core/queue/types.ts';
import type { ProposalRecord } from '../state.ts';
import { isOptimizerPlanPending, type Approvals } from './approvals.ts';
import type { PipelineContext } from './context.ts';
import { assessProposal } from './assess.ts';

export class Intake {
  private worker: QueueWorker | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly approvals: Approvals,
  ) {}

  async start(): Promise<void> {
    this.worker = await this.ctx.d.queue.process<ProposalInput, void>(proposalQueueName, async (data) => {
      try {
        await this.submit(data, 'optimizer');
      } catch (err) {
        this.ctx.d.metrics.errors.inc({ error_type: 'bad_proposal' });
        this.ctx.d.log?.warn({ err: errorMessage(err) }, 'proposal rejected at intake');
      }
    });
  }

  async stop(): Promise<void> {
    await this.worker?.close();
  }

  /** Validates and records a proposal, then lets approvals decide. Idempotent on id. */
  async submit(input: ProposalInput, actor = 'optimizer'): Promise<ProposalRecord> {
    const { d, engine } = this.ctx;
    const parsed = proposalSchema.safeParse(input);
    if (!parsed.success)
      throw new ValidationError(
        `invalid proposal: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    const proposal: Proposal = { ...parsed.data, status: 'proposed', history: [] };
    const existing = await d.state.get(proposal.id);
    if (existing) return existing;
    // The optimizer re-plans every run: its plan identical to one of its own still waiting is that one.
    const same = sameIntents(proposal);
    const pending = (await d.state.list()).find((r) => isOptimizerPlanPending(r) && sameIntents(r.proposal) === same);
    if (pending && actor === 'optimizer' && !proposal.emergency) return pending;
    for (const intent of proposal.intents) {
      if (!d.topology.sites.has(intent.router) && !this.ctx.overlayRouters.has(intent.router))
        throw new ValidationError(`invalid proposal ${proposal.id}: unknown router (site) "${intent.router}"`);
    }
    for (const router of new Set(proposal.intents.map((i) => i.router))) {
      engine.render(
        proposal.intents.filter((i) => i.router === router),
        1,
        {},
        router,
      );
    }
    // The assessment is the actuator's own: one that came with the proposal is replaced, never trusted.
    proposal.assessment = await assessProposal(this.ctx, proposal);
    // The same id may have arrived again while this one was assessed (a client retrying): that one stands.
    const arrived = await d.state.get(proposal.id);
    if (arrived) return arrived;
    const rec: ProposalRecord = { proposal, updatedAt: d.clock.now() };
    proposal.history.push({ status: 'proposed', at: d.clock.now(), actor });
    await this.ctx.status.created(rec);
    await this.ctx.audit.emit(proposal.id, 'proposed', {
      actor,
      detail: {
        reason: proposal.reason,
        risk: proposal.risk,
        assessed_risk: proposal.assessment.level,
        assessment: proposal.assessment.reasons,
        intents: proposal.intents,
      },
    });
    if (actor === 'optimizer') await this.approvals.supersede(rec);
    return this.approvals.arrived(rec);
  }
}

/** The intents in one canonical text (order of intents and of object keys ignored). */
function sameIntents(p: Proposal): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return JSON.stringify(p.intents.map((i) => JSON.stringify(canonical(i))).sort());
}
