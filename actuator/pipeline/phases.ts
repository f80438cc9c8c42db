/**
 * The rollout's phase handlers over a persisted `RolloutState`: snapshot (approved → applying), apply a
 * step on every router, bake it under the SLO guard, confirm (commit-confirm stopped, saved, exported)
 * — each moves `st.phase` on; a failure sets `rolling-back` with the reason (rollback.ts runs it); drift
 * (someone else changed a touched subtree) stops the rollout for a human (drifted.ts). The
 * state is written before every router call, so whoever holds the lease next resumes from the record.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Proposal } from '../../core/proposal.ts';
import { RouterStepError, type Engine, type RolloutState } from '../engine.ts';
import { analyzeStep, type GuardVerdict } from '../guard/index.ts';
import { isLeaseLost, type RolloutLease } from '../lease.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';
import { afterDetail, snapshotDetail } from './detail.ts';
import type { DriftFinding } from './drift.ts';
import { markDrifted } from './drifted.ts';
import { exportGitops } from './gitops.ts';
import { notifySlack } from './notify.ts';

/** One rollout as this process drives it under its lease. */
export interface RolloutRun {
  ctx: PipelineContext;
  rec: ProposalRecord;
  /** The engine with every router write behind the lease check. */
  engine: Engine;
  lease: RolloutLease;
  persist: () => Promise<void>;
  /** Aborted (with the reason) when an emergency on one of this rollout's routers preempts its bake. */
  preempted?: AbortSignal;
  /** Whether a router already took a commit of this rollout (the apply latency is observed once). */
  firstCommitSeen: boolean;
}

/** Rollout fractions: emergency failovers go in one step, weight shifts follow the configured steps, others apply whole. */
export function stepsFor(ctx: PipelineContext, p: Proposal): number[] {
  if (p.emergency || !p.intents.some((i) => i.kind === 'path-weights')) return [1];
  const steps = [...new Set(ctx.d.actuation.rollout_steps)].sort((a, b) => a - b);
  return steps.at(-1) === 1 ? steps : [...steps, 1];
}

/** approved → applying: reads the routers and snapshots the touched subtrees. False when they cannot be read. */
export async function snapshot(ctx: PipelineContext, rec: ProposalRecord): Promise<boolean> {
  const { d, engine, status, audit } = ctx;
  const p = rec.proposal;
  try {
    rec.rollout = await engine.prepare(p.intents, stepsFor(ctx, p), d.clock.now());
  } catch (err) {
    rec.error = errorMessage(err);
    await status.set(rec, 'failed', 'actuator', `could not read the routers: ${rec.error}`);
    await audit.emit(p.id, 'failed', { actor: 'actuator', detail: { error: rec.error } });
    return false;
  }
  await status.set(rec, 'applying', 'actuator');
  await audit.emit(p.id, 'applying', {
    actor: 'actuator',
    detail: { steps: rec.rollout.steps, routers: rec.rollout.order, snapshots: snapshotDetail(rec.rollout) },
  });
  return true;
}

/** Routers not yet at the current step whose touched subtrees hold something else than this rollout left there. */
async function driftBeforeStep(run: RolloutRun, st: RolloutState): Promise<DriftFinding[]> {
  const out: DriftFinding[] = [];
  for (const router of st.order) {
    if (st.routers[router]!.applied >= st.step) continue;
    const paths = await run.engine.driftOf(run.rec.proposal.intents, st, router, 'step');
    if (paths.length > 0) out.push({ router, paths });
  }
  return out;
}

/**
 * Applies the current step on every router not yet at it; then bakes. Every router is compared with
 * what this rollout last applied first: drift on any stops the change before a single op is sent.
 */
export async function applyStep(run: RolloutRun, st: RolloutState): Promise<void> {
  const { ctx, rec, engine, persist } = run;
  const { d, audit, status } = ctx;
  const id = rec.proposal.id;
  const approvedAt = (rec as ProposalRecord & { approvedAt?: number }).approvedAt;
  let drift: DriftFinding[] = [];
  try {
    drift = await driftBeforeStep(run, st);
  } catch (err) {
    if (isLeaseLost(err)) throw err;
    return stepFailed(run, st, err);
  }
  if (drift.length > 0) return markDrifted(ctx, rec, st, engine, drift, `before step ${st.step + 1}`);
  try {
    for (const router of st.order) {
      if (st.routers[router]!.applied >= st.step) continue;
      const before = snapshotDetail(st, router);
      const { ops, sent } = await engine.applyRouter(rec.proposal.intents, st, router, persist);
      d.metrics.applies.inc({ result: 'ok' });
      d.metrics.routerCalls.inc({ op: 'configure', result: sent ? 'sent' : 'already-applied' });
      if (!run.firstCommitSeen && approvedAt !== undefined) {
        d.metrics.applyLatency.observe((Date.now() - approvedAt) / 1000);
        run.firstCommitSeen = true;
      }
      await audit.emit(id, 'step-applied', {
        actor: 'actuator',
        router,
        step: st.step,
        detail: { fraction: st.steps[st.step], ops, already_applied: !sent, before },
      });
    }
  } catch (err) {
    if (isLeaseLost(err)) throw err;
    return stepFailed(run, st, err);
  }
  if (st.step === 0) await audit.emit(id, 'applied', { actor: 'actuator', detail: { routers: st.order } });
  st.phase = 'baking';
  await status.set(rec, 'baking', 'actuator', `step ${st.step + 1}/${st.steps.length}`);
  await audit.emit(id, 'baking', { actor: 'actuator', step: st.step, detail: { bake_s: d.actuation.bake_time_s } });
}

/** A step that could not be applied (or its routers read): the change set rolls back. */
async function stepFailed(run: RolloutRun, st: RolloutState, err: unknown): Promise<void> {
  run.ctx.d.metrics.applies.inc({ result: 'error' });
  st.rollbackReason = errorMessage(err);
  st.phase = 'rolling-back';
  await run.persist();
  await run.ctx.audit.emit(run.rec.proposal.id, 'failed', {
    actor: 'actuator',
    ...(err instanceof RouterStepError ? { router: err.router } : {}),
    step: st.step,
    detail: { error: st.rollbackReason },
  });
}

/**
 * Bakes the current step under the guard; a pass stops the step's commit-confirm timers and moves to the
 * next step (or to confirming), anything else rolls back. 'stopped' when the process stops mid-bake (the
 * next start resumes this step's bake).
 */
export async function bakeStep(run: RolloutRun, st: RolloutState): Promise<'stopped' | undefined> {
  const { ctx, rec, engine, persist, lease } = run;
  let verdict: GuardVerdict;
  const signals = [ctx.life.abort.signal, lease.signal, ...(run.preempted ? [run.preempted] : [])];
  try {
    if (run.preempted?.aborted) throw new Error(String(run.preempted.reason));
    verdict = await guardVerdict(ctx, rec, st, AbortSignal.any(signals));
  } catch (err) {
    if (ctx.life.stopped) return 'stopped';
    if (lease.lost) throw lease.lostError(); // The next lease holder resumes this step's bake.
    if (run.preempted?.aborted) {
      // Not a verdict on this change: it gives its routers back to an emergency failover.
      st.rollbackReason = String(run.preempted.reason);
      st.phase = 'rolling-back';
      await persist();
      return;
    }
    verdict = {
      result: 'inconclusive',
      failures: 0,
      inconclusive: 1,
      measurements: [],
      reason: `guard error: ${errorMessage(err)}`,
    };
  }
  const event = verdict.result === 'pass' ? 'guard-pass' : verdict.result === 'fail' ? 'guard-fail' : 'guard-inconclusive';
  await ctx.audit.emit(rec.proposal.id, event, { actor: 'guard', step: st.step, detail: verdict });
  if (verdict.result !== 'pass') {
    st.rollbackReason = `guard ${verdict.result} at step ${st.step + 1}: ${verdict.reason}`;
    st.phase = 'rolling-back';
    (st as RolloutState & { verdictAt?: number }).verdictAt = Date.now();
    await persist();
    return;
  }
  try {
    for (const router of st.order) await engine.confirmRouter(st, router, persist);
  } catch (err) {
    if (isLeaseLost(err)) throw err;
    st.rollbackReason = errorMessage(err);
    st.phase = 'rolling-back';
    await persist();
    return;
  }
  if (st.step + 1 < st.steps.length) {
    st.step++;
    st.phase = 'applying';
    await ctx.status.set(rec, 'applying', 'actuator', `step ${st.step + 1}/${st.steps.length}`);
  } else {
    st.phase = 'confirming';
    await persist();
  }
}

/** Every step passed: the routers save their config, GitOps files are written, the proposal is confirmed. */
export async function confirm(run: RolloutRun, st: RolloutState): Promise<void> {
  const { ctx, rec, engine } = run;
  const { d } = ctx;
  for (const router of st.order) {
    try {
      await engine.save(router);
    } catch (err) {
      if (isLeaseLost(err)) throw err;
      d.metrics.errors.inc({ error_type: 'save' });
      d.log?.warn({ router, err: errorMessage(err) }, 'config save failed (the change stays committed)');
    }
  }
  await exportGitops(ctx, st.order);
  st.phase = 'done';
  await ctx.status.set(rec, 'confirmed', 'actuator');
  await ctx.audit.emit(rec.proposal.id, 'confirmed', {
    actor: 'actuator',
    detail: { after: await afterDetail(d.routerFor, st) },
  });
  await notifySlack(d, rec, { status: 'confirmed' });
}

async function guardVerdict(
  ctx: PipelineContext,
  rec: ProposalRecord,
  st: RolloutState,
  signal: AbortSignal,
): Promise<GuardVerdict> {
  const { d } = ctx;
  const bakeMs = d.actuation.bake_time_s * 1000;
  if (!d.guardData) {
    await d.clock.sleep(bakeMs, signal);
    return { result: 'pass', failures: 0, inconclusive: 0, measurements: [], reason: 'no guard data source configured' };
  }
  return analyzeStep({
    proposal: rec.proposal,
    topology: d.topology,
    data: d.guardData,
    clock: d.clock,
    config: d.actuation.guard,
    bakeMs,
    baseline: { from: st.startedAt - d.config.baseline_s * 1000, to: st.startedAt },
    signal,
  });
}
