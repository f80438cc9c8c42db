/**
 * Guardrails of the automatic closed loop: risk ceiling, largest weight shift per step, a token-bucket
 * change-rate limit, freeze windows (UTC) and a cool-down for pairs that were just rolled back.
 * Emergency failovers (a path breaking its SLO right now) skip every guardrail when `emergency_auto`
 * is on: the cool-down exists to stop optimizer churn, not to keep traffic on a broken path. Only a pair
 * whose last emergency failover was rolled back waits (the same move would fail again).
 */
import type { ActuationConfig } from '../core/config/schema.ts';
import { riskLevels, type Proposal } from '../core/proposal.ts';

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perHour: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }
  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perHour) / 3_600_000);
    this.last = now;
  }
  available(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export function inFreeze(config: ActuationConfig, now: number): boolean {
  const d = new Date(now);
  const day = d.getUTCDay();
  const hour = d.getUTCHours();
  return config.freeze_windows.some((w) => w.days.includes(day) && hour >= w.start_hour && hour < w.end_hour);
}

export interface AutoDecision {
  approve: boolean;
  /** Why not (or why yes), one sentence for the audit trail. */
  reason: string;
}

export interface AutoInputs {
  proposal: Proposal;
  now: number;
  /** Largest traffic fraction one step of this proposal would move. */
  maxStepShift: number;
  /** Pair keys (`from>to`) cooling down after a rollback, with the instant they may change again. */
  cooling: Map<string, number>;
  /**
   * Pair keys whose last emergency failover was rolled back or failed (`coolingPairs(…, 'emergencies')`):
   * the same move is not repeated unattended until then. Without it, none.
   */
  emergencyCooling?: Map<string, number>;
  bucket: TokenBucket;
}

export function autoDecide(config: ActuationConfig, i: AutoInputs): AutoDecision {
  const p = i.proposal;
  // The actuator's own assessment (what the change would cut or open), else the level the proposal states.
  const risk = p.assessment?.level ?? p.risk;
  // A path the change moves traffic onto shifted suddenly (route security): a human looks first — except
  // for an emergency failover, which leaves a path already breaking its SLO.
  if (p.assessment?.hold && !p.emergency)
    return { approve: false, reason: p.assessment.reasons.find((r) => r.startsWith('held')) ?? 'held for approval' };
  // High risk the assessment found (a live conversation cut, a high-severity finding) is never applied
  // unattended, an emergency neither: it waits for its approvers. A level only stated by the optimizer
  // meets the configured ceiling as before (`--auto` sets it to high: the lab's fully closed loop).
  if (p.assessment && p.assessment.approvals_required > 1)
    return {
      approve: false,
      reason: `high risk (${p.assessment.reasons[0]}): needs ${p.assessment.approvals_required} approvers, never applied unattended`,
    };
  if (p.emergency && config.emergency_auto) {
    if (config.mode === 'observe') return { approve: false, reason: 'observe mode: nothing is applied' };
    // A failover of a pair whose last one was just rolled back would be rolled back again (the optimizer
    // re-plans it every run): it waits for a human until the back-off ends, as the self-heal does.
    for (const s of p.scope) {
      const until = i.emergencyCooling?.get(`${s.pair[0]}>${s.pair[1]}`);
      if (until !== undefined && until > i.now)
        return {
          approve: false,
          reason: `pair ${s.pair.join('→')} had an emergency failover rolled back: not repeated without approval until ${new Date(until).toISOString()}`,
        };
    }
    return { approve: true, reason: 'emergency failover: the emergency policy applies it without approval' };
  }
  for (const s of p.scope) {
    const until = i.cooling.get(`${s.pair[0]}>${s.pair[1]}`);
    if (until !== undefined && until > i.now)
      return {
        approve: false,
        reason: `pair ${s.pair.join('→')} is cooling down after a rollback until ${new Date(until).toISOString()}`,
      };
  }
  if (config.mode !== 'auto') return { approve: false, reason: `${config.mode} mode: waiting for a human decision` };
  if (riskLevels.indexOf(risk) > riskLevels.indexOf(config.auto_approve_max_risk))
    return { approve: false, reason: `risk ${risk} is above the auto-approval ceiling ${config.auto_approve_max_risk}` };
  if (i.maxStepShift > config.max_shift_per_step + 1e-9)
    return {
      approve: false,
      reason: `a step would move ${(i.maxStepShift * 100).toFixed(0)}% of traffic (max ${(config.max_shift_per_step * 100).toFixed(0)}% per step)`,
    };
  if (inFreeze(config, i.now)) return { approve: false, reason: 'inside a freeze window' };
  if (!i.bucket.take(i.now)) return { approve: false, reason: 'change-rate limit reached (token bucket empty)' };
  return { approve: true, reason: `auto: risk ${risk} ≤ ${config.auto_approve_max_risk}, guardrails hold` };
}

/**
 * Until when each pair (`from>to`) cools down after a change touching it went wrong: `cooldownMs` after its
 * last status. `plans`: planned changes rolled back or failed, and drifts (they hold auto-approval back);
 * `emergencies`: emergency failovers rolled back or failed (the self-heal does not repeat them). Apart on
 * purpose: a failover that could not move a whole pair to its backups says nothing about a plan that
 * spreads the load, and a failed plan does not stop a failover off a broken path.
 */
export function coolingPairs(
  records: readonly { proposal: Proposal; updatedAt: number }[],
  cooldownMs: number,
  kind: 'plans' | 'emergencies',
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    const p = r.proposal;
    const backedOut = p.status === 'rolled-back' || p.status === 'failed';
    const counts =
      kind === 'emergencies'
        ? p.emergency && backedOut
        : !(p.emergency && backedOut) && (backedOut || p.status === 'drifted' || p.status === 'drift-accepted');
    if (!counts) continue;
    const until = (p.history.at(-1)?.at ?? r.updatedAt) + cooldownMs;
    for (const [from, to] of [...p.scope.map((s) => s.pair), ...p.intents.flatMap((i) => ('pair' in i ? [i.pair] : []))]) {
      const key = `${from}>${to}`;
      out.set(key, Math.max(out.get(key) ?? 0, until));
    }
  }
  return out;
}
