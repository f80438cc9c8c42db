/**
 * The rollback phase: every touched router, in reverse order, goes back to its snapshot exactly (one
 * `/configure` with the diff back, an armed commit-confirm stopped). A router that cannot be restored
 * leaves the proposal `failed` naming it, for an admin to retry (`retryRollback`). Each router is first
 * compared with what this rollout may have left there: one someone else changed meanwhile (drift) is
 * not restored — its edit is not overwritten — and the proposal ends `drifted` for an admin to decide;
 * the routers nobody else touched are still restored (a regressing change does not stay on them).
 * An admin's rollback of a drifted proposal (`overwriteDrift`) restores every router regardless.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Engine, RolloutState } from '../engine.ts';
import { isLeaseLost } from '../lease.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';
import { readTouched, snapshotDetail } from './detail.ts';
import { RouterDriftError, type DriftFinding } from './drift.ts';
import { markDrifted } from './drifted.ts';
import { exportGitops } from './gitops.ts';
import { notifySlack } from './notify.ts';

export async function rollbackAll(
  ctx: PipelineContext,
  rec: ProposalRecord,
  st: RolloutState,
  engine: Engine,
  opts: { overwriteDrift?: boolean } = {},
): Promise<void> {
  const { d, audit, status } = ctx;
  const id = rec.proposal.id;
  const persist = () => d.state.put(rec);
  const t0 = (st as RolloutState & { verdictAt?: number }).verdictAt ?? Date.now();
  const errors: string[] = [];
  const drift: DriftFinding[] = [];
  const guard = opts.overwriteDrift ? undefined : { intents: rec.proposal.intents };
  for (const router of [...st.order].reverse()) {
    const r = st.routers[router]!;
    if (r.applied < 0 && r.inFlight === null && !r.confirmPending) continue;
    try {
      const before = await readTouched(d.routerFor, st, router);
      const ops = await engine.restoreRouter(st, router, persist, guard);
      await audit.emit(id, 'rolled-back', {
        actor: 'actuator',
        router,
        step: st.step,
        detail: { ops, before, after: snapshotDetail(st, router) },
      });
    } catch (err) {
      if (isLeaseLost(err)) throw err;
      if (err instanceof RouterDriftError) drift.push(err.finding);
      else errors.push(`${router}: ${errorMessage(err)}`);
    }
  }
  d.metrics.rollbackLatency.observe((Date.now() - t0) / 1000);
  st.phase = 'done';
  await exportGitops(ctx, st.order);
  if (drift.length > 0) {
    const failedToo = errors.length > 0 ? `; the restore also failed on ${errors.join('; ')}` : '';
    return markDrifted(ctx, rec, st, engine, drift, 'before the restore', `${st.rollbackReason ?? 'rollback'}${failedToo}`);
  }
  if (errors.length > 0) {
    d.metrics.rollbacks.inc({ result: 'error' });
    rec.error = `rollback incomplete (${errors.join('; ')}) after: ${st.rollbackReason ?? ''}`;
    await status.set(rec, 'failed', 'actuator', rec.error);
    await audit.emit(id, 'failed', { actor: 'actuator', detail: { error: rec.error } });
    await notifySlack(d, rec, { status: 'FAILED — routers need attention', note: rec.error });
    return;
  }
  d.metrics.rollbacks.inc({ result: 'ok' });
  rec.error = st.rollbackReason;
  await status.set(rec, 'rolled-back', 'actuator', st.rollbackReason);
  await notifySlack(d, rec, { status: 'rolled back', ...(st.rollbackReason ? { note: st.rollbackReason } : {}) });
}
