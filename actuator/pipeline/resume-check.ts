/**
 * Before a resumed rollout touches anything, every router is compared with the record
 * (`Engine.inspect`, the comparison of drift.ts). Drift (a router holds neither the snapshot nor a
 * step's config) stops the change for a human: status `drifted`, nothing overwritten (drifted.ts; an
 * admin's rollback restores the snapshots, or the admin accepts the routers as they are). A router that went back on its own — its commit-confirm timer fired while no
 * actuator ran, or a reboot — or a confirm deadline that has passed rolls the change set back on
 * every router at once, before any bake: a 1.5 router that reverted and a 1.4 router that kept
 * the change must not stay half-changed.
 */
import { errorMessage } from '../../core/errors.ts';
import type { RolloutState, RouterFinding } from '../engine.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';
import { markDrifted } from './drifted.ts';

/** False when the rollout must not continue as recorded (drift: a human decides). */
export async function checkResumed(ctx: PipelineContext, rec: ProposalRecord, st: RolloutState): Promise<boolean> {
  const { d, engine, audit } = ctx;
  const id = rec.proposal.id;
  const expired = engine.confirmWindowPassed(st);
  let findings: RouterFinding[];
  try {
    findings = await engine.inspect(rec.proposal.intents, st);
  } catch (err) {
    // Unreadable routers: continue as recorded; the first router call fails and rolls back.
    d.log?.warn({ proposal: id, err: errorMessage(err) }, 'cannot compare the routers with the record on resume');
    findings = [];
  }
  const drift = findings.flatMap((f) => (f.kind === 'drift' ? [{ router: f.router, paths: f.paths }] : []));
  const reverted = findings.filter((f) => f.kind === 'reverted').map((f) => f.router);
  if (drift.length > 0) {
    await markDrifted(ctx, rec, st, engine, drift, 'on resume');
    return false;
  }
  if (reverted.length === 0 && expired.length === 0) return true;
  const who = [...new Set([...reverted, ...expired])].sort();
  st.rollbackReason =
    `resumed after the commit-confirm window: ${who.join(', ')} went back on its own ` +
    `(reverted: ${reverted.join(', ') || 'none'}; deadline passed: ${expired.join(', ') || 'none'}); rolling back every router`;
  st.phase = 'rolling-back';
  await d.state.put(rec);
  await audit.emit(id, 'failed', {
    actor: 'actuator',
    step: st.step,
    detail: { error: st.rollbackReason, reverted, confirm_window_passed: expired },
  });
  return true;
}
