/**
 * The realized effect of applied proposals: every `realized_interval_s` a pass finds confirmed proposals
 * whose after-window has ended (plus the guard's data lag, so late probe and flow rows are in) and that
 * have no `realized` yet, measures that window against an equal one ending where the apply started
 * (realized-measure.ts), stores the figures on the record (once: the store refuses a second writer),
 * records the proposal in ClickHouse, counts it and posts a Slack follow-up. Bounded per pass; a failure
 * is logged and counted, and the proposal is measured again at the next pass.
 */
import { errorMessage } from '../core/errors.ts';
import type { Proposal, Realized } from '../core/proposal.ts';
import { measureWindow, sloScope, type RealizedData } from './realized-measure.ts';
import type { PipelineContext } from './pipeline/context.ts';
import { trackPeriodic } from './pipeline/periodic.ts';
import { realizedSlack } from './pipeline/notify.ts';
import type { ProposalRecord } from './state.ts';

const minute = 60_000;
/** Proposals measured per pass at most (six queries each): a backlog drains over a few passes. */
const perPass = 5;
/** Minute rollups answer for about this long (and the per-minute queries refuse longer ranges). */
const maxAgeMs = 7 * 86_400_000;

/** The equal windows around a confirmed proposal's apply, whole minutes; undefined when it was never applied. */
export function realizedWindows(
  p: Proposal,
  windowMs: number,
): { before: { from: number; to: number }; after: { from: number; to: number } } | undefined {
  if (p.status !== 'confirmed') return undefined;
  const started = p.history.find((h) => h.status === 'applying')?.at;
  const confirmed = p.history.findLast((h) => h.status === 'confirmed')?.at;
  if (started === undefined || confirmed === undefined) return undefined;
  // The minute the apply started and the minute it was confirmed hold traffic of both splits: neither counts.
  const beforeTo = Math.floor(started / minute) * minute;
  const afterFrom = Math.ceil(confirmed / minute) * minute;
  return { before: { from: beforeTo - windowMs, to: beforeTo }, after: { from: afterFrom, to: afterFrom + windowMs } };
}

export class RealizedEffects {
  /** The loop; stop() waits for its pass in flight, which queries the store. */
  private loop: Promise<void> | undefined;

  constructor(private readonly ctx: PipelineContext) {}

  start(): void {
    const { d } = this.ctx;
    const data = d.realizedData;
    // Errors of one proposal are handled inside a pass; a failed pass is the list read failing.
    if (data && d.config.realized_interval_s > 0)
      this.loop = trackPeriodic(
        this.ctx,
        'realized',
        d.config.realized_interval_s * 1000,
        { errorType: 'realized', message: 'realized-effect pass failed' },
        () => this.pass(data),
      );
  }

  async stop(): Promise<void> {
    await this.loop;
  }

  /** One pass: the records it measured and stored. */
  async pass(data: RealizedData): Promise<ProposalRecord[]> {
    const { d } = this.ctx;
    const now = d.clock.now();
    const windowMs = d.config.realized_window_s * 1000;
    const lagMs = d.actuation.guard.max_data_lag_s * 1000;
    const due = (await d.state.list())
      .filter((r) => r.proposal.realized === undefined)
      .map((r) => ({ r, w: realizedWindows(r.proposal, windowMs) }))
      .filter((x) => x.w !== undefined && x.w.after.to + lagMs <= now && now - x.w.before.from <= maxAgeMs)
      .sort((a, b) => a.w!.after.to - b.w!.after.to || a.r.proposal.id.localeCompare(b.r.proposal.id))
      .slice(0, perPass);
    const out: ProposalRecord[] = [];
    for (const { r, w } of due) {
      try {
        const scope = sloScope(r.proposal, d.topology);
        const before = await measureWindow(data, d.topology, scope, w!.before);
        const after = await measureWindow(data, d.topology, scope, w!.after);
        const realized: Realized = {
          before: w!.before,
          after: w!.after,
          cost_per_day: after.cost_per_day,
          cost_per_day_before: before.cost_per_day,
          gb_per_day: after.gb_per_day,
          gb_per_day_before: before.gb_per_day,
          slo_pair_class_minutes: after.slo_pair_class_minutes,
          slo_pair_class_minutes_before: before.slo_pair_class_minutes,
          measured_at: d.clock.now(),
        };
        const rec = await d.state.putRealized(r.proposal.id, realized);
        if (!rec) continue; // another actuator measured it first (or the record is gone)
        out.push(rec);
        this.observe(rec.proposal, realized);
        // ClickHouse's proposals table is what a console without the actuator role reads: the figures go there too.
        await this.ctx.status.record(rec);
        await realizedSlack(d, rec);
      } catch (err) {
        d.metrics.realized.inc({ result: 'error' });
        d.metrics.errors.inc({ error_type: 'realized' });
        d.log?.warn({ err: errorMessage(err), proposal: r.proposal.id }, 'realized effect not measured; retried next pass');
      }
    }
    return out;
  }

  private observe(p: Proposal, realized: Realized): void {
    const { d } = this.ctx;
    d.metrics.realized.inc({ result: 'measured' });
    if (p.predicted.cost_per_day > 0) d.metrics.realizedCostRatio.observe(realized.cost_per_day / p.predicted.cost_per_day);
    d.log?.info(
      {
        proposal: p.id,
        cost_per_day: realized.cost_per_day,
        predicted_cost_per_day: p.predicted.cost_per_day,
        slo_minutes: [realized.slo_pair_class_minutes_before, realized.slo_pair_class_minutes],
      },
      'realized effect measured',
    );
  }
}
