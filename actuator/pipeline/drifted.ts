/**
 * A rollout that found drift (drift.ts) stops for a human: the proposal becomes `drifted` with an
 * error naming every router and path, each drifted router gets a `drifted` audit event (with what it
 * holds now) and a count in `pathpilot_actuator_drift_total{router}`, and the channel gets a Slack
 * alert. Nothing more is sent to the routers: an admin rolls back anyway (`POST …/rollback`, which
 * overwrites the drift) or keeps the routers as they are (`POST …/accept-drift`).
 */
import { errorMessage } from '../../core/errors.ts';
import type { Engine, RolloutState } from '../engine.ts';
import { isLeaseLost } from '../lease.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';
import { readTouched } from './detail.ts';
import { describeDrift, type DriftFinding } from './drift.ts';
import { alertSlack } from './notify.ts';

/**
 * Marks `rec` drifted. `when` says which check found it (`before step 2`, `before the restore`,
 * `on resume`); `after` is what the rollout was doing (a rollback's reason), if anything. A drifted
 * router's armed commit-confirm timer is stopped (through `engine`): when it fired, the router would
 * go back to its last confirmed config and overwrite the edit itself, before anyone decided.
 */
export async function markDrifted(
  ctx: PipelineContext,
  rec: ProposalRecord,
  st: RolloutState,
  engine: Engine,
  findings: readonly DriftFinding[],
  when: string,
  after?: string,
): Promise<void> {
  const { d, audit, status } = ctx;
  const id = rec.proposal.id;
  const timers: string[] = [];
  for (const f of findings) {
    try {
      await engine.confirmRouter(st, f.router, () => d.state.put(rec));
    } catch (err) {
      if (isLeaseLost(err)) throw err;
      timers.push(`${f.router}: ${errorMessage(err)}`);
    }
  }
  rec.error =
    `drift ${when}: ${describeDrift(findings)} changed by someone else; nothing was overwritten. ` +
    `An admin rolls back anyway (the snapshots come back) or accepts the routers as they are` +
    (after ? ` (after: ${after})` : '') +
    (timers.length > 0 ? `; commit-confirm not stopped on ${timers.join('; ')}` : '');
  st.phase = 'done';
  await status.set(rec, 'drifted', 'actuator', rec.error);
  for (const f of findings) {
    d.metrics.drift.inc({ router: f.router });
    const holds = await readTouched(d.routerFor, st, f.router);
    await audit.emit(id, 'drifted', {
      actor: 'actuator',
      router: f.router,
      step: st.step,
      detail: { when, paths: f.paths, holds: Object.fromEntries(f.paths.map((p) => [p, holds[p] ?? null])), error: rec.error },
    });
  }
  d.log?.warn({ proposal: id, drift: findings, when }, 'drift: a touched router was changed by someone else; stopped');
  await alertSlack(d, rec, { status: 'DRIFTED — an admin decides', note: rec.error });
}
