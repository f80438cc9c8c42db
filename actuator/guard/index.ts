/**
 * The SLO guard, Argo-Rollouts style: during a step's bake time it takes one measurement per
 * interval of every affected (pair, class) — p95 RTT, loss and jitter of its paths in the last
 * interval — and compares it with the class SLO and with the pre-change baseline window.
 * A measurement fails when any metric breaks its SLO or regresses by more than `max_regression`;
 * a measurement without data is inconclusive. The step fails once failures exceed `failure_limit`
 * or inconclusive measurements exceed `inconclusive_limit` (missing data fails safe).
 */
import type { Clock } from '../../core/clock.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { ActuationConfig } from '../../core/config/schema.ts';
import type { Store } from '../../core/store/types.ts';
import type { Proposal } from '../../core/proposal.ts';
import { compareWindows, windowQualityByPath } from '../../analytics/queries/index.ts';
import type { TimeRange, WindowComparison, WindowQuality } from '../../analytics/queries/types.ts';

/** What the guard reads; implemented over analytics/queries, faked in unit tests. */
export interface GuardData {
  compare(q: { pathIds: string[]; class?: string; current: TimeRange; baseline: TimeRange }): Promise<WindowComparison>;
  /**
   * Every path's window quality at once, keyed `${path}|${class}` and `${path}|*` (every class): the
   * self-heal pass judges all paths each interval, one query instead of one per path and class.
   */
  qualityByPath?(range: TimeRange): Promise<ReadonlyMap<string, WindowQuality>>;
}

export function guardDataFromStore(store: Store): GuardData {
  return { compare: (q) => compareWindows(store, q), qualityByPath: (range) => windowQualityByPath(store, range) };
}

export type MeasurementResult = 'pass' | 'fail' | 'inconclusive';

/** The objectives of a class SLO (the `slo` label of the breach gauge). */
export const sloObjectives = ['rtt_p95', 'loss', 'jitter'] as const;
export type SloObjective = (typeof sloObjectives)[number];

export interface Measurement {
  at: number;
  pair: [string, string];
  class: string;
  result: MeasurementResult;
  reasons: string[];
  current: WindowComparison['current'];
  baseline: WindowComparison['baseline'];
}

export interface GuardVerdict {
  result: 'pass' | 'fail' | 'inconclusive';
  failures: number;
  inconclusive: number;
  measurements: Measurement[];
  reason: string;
}

export type GuardConfig = ActuationConfig['guard'];

/** Judges one comparison against a class SLO. */
export function judge(
  cmp: WindowComparison,
  slo: { rtt_p95_ms: number; loss_pct: number; jitter_ms: number },
  maxRegression: number,
): { result: MeasurementResult; reasons: string[]; broken: SloObjective[] } {
  const cur = cmp.current;
  if (!cur || cur.windows === 0) return { result: 'inconclusive', reasons: ['no probe data in the interval'], broken: [] };
  const reasons: string[] = [];
  const broken: SloObjective[] = [];
  if (cur.rtt_p95_ms > slo.rtt_p95_ms) {
    broken.push('rtt_p95');
    reasons.push(`p95 RTT ${cur.rtt_p95_ms.toFixed(1)} ms > SLO ${slo.rtt_p95_ms} ms`);
  }
  if (cur.loss_ratio * 100 > slo.loss_pct) {
    broken.push('loss');
    reasons.push(`loss ${(cur.loss_ratio * 100).toFixed(2)}% > SLO ${slo.loss_pct}%`);
  }
  if (cur.jitter_ms > slo.jitter_ms) {
    broken.push('jitter');
    reasons.push(`jitter ${cur.jitter_ms.toFixed(1)} ms > SLO ${slo.jitter_ms} ms`);
  }
  const base = cmp.baseline;
  if (base && cmp.change) {
    if (cmp.change.rtt_p95 > maxRegression)
      reasons.push(`p95 RTT +${(cmp.change.rtt_p95 * 100).toFixed(0)}% vs baseline ${base.rtt_p95_ms.toFixed(1)} ms`);
    if (base.jitter_ms > 0 && cmp.change.jitter > maxRegression && cur.jitter_ms - base.jitter_ms > 1)
      reasons.push(`jitter +${(cmp.change.jitter * 100).toFixed(0)}% vs baseline`);
    // Loss: an absolute increase of more than half the SLO budget.
    if (cmp.change.loss * 100 > slo.loss_pct / 2) reasons.push(`loss +${(cmp.change.loss * 100).toFixed(2)} pts vs baseline`);
  }
  return { result: reasons.length > 0 ? 'fail' : 'pass', reasons, broken };
}

export interface AnalyzeOptions {
  proposal: Proposal;
  topology: Topology;
  data: GuardData;
  clock: Clock;
  config: GuardConfig;
  bakeMs: number;
  /** Pre-change baseline window. */
  baseline: TimeRange;
  signal?: AbortSignal;
  onMeasurement?: (m: Measurement) => void;
}

function scopeOf(proposal: Proposal, topology: Topology): { pair: [string, string]; class: string; paths: string[] }[] {
  const scope = proposal.scope.length
    ? proposal.scope
    : proposal.intents
        .filter((i) => i.kind === 'path-weights' || i.kind === 'class-pin')
        .map((i) => ({ pair: (i as { pair: [string, string] }).pair, class: (i as { class: string }).class, paths: [] }));
  return scope.map((s) => ({
    pair: s.pair,
    class: s.class,
    paths: s.paths.length ? s.paths : topology.pathsFor(s.pair[0], s.pair[1]).map((p) => p.id),
  }));
}

/**
 * Compares a window with its baseline for one class. Probe agents often send one DSCP per path (the twin
 * and most TWAMP setups probe with the most important class only): when the class has no probes of its
 * own in either window, the path's probes of any class stand in. Quality is the path's; the class only
 * sets the thresholds it is judged by.
 */
export async function compareForClass(
  data: GuardData,
  q: { pathIds: string[]; class: string; current: TimeRange; baseline: TimeRange },
): Promise<WindowComparison> {
  const cmp = await data.compare(q);
  const empty = (w: WindowComparison['current']) => !w || w.windows === 0;
  if (empty(cmp.current) && empty(cmp.baseline)) return data.compare({ ...q, class: undefined });
  return cmp;
}

/**
 * Probe windows reach the store some time after they end (collector batching, Kafka, sink batching). An
 * interval with no data yet is measured again, every quarter interval, until `max_data_lag_s` after its
 * end; only then does it count as inconclusive. Data that is merely late never fails or passes a step.
 */
async function measureWhenArrived(
  o: AnalyzeOptions,
  s: { class: string; paths: string[] },
  window: TimeRange,
): Promise<Awaited<ReturnType<GuardData['compare']>>> {
  const deadline = window.to + o.config.max_data_lag_s * 1000;
  const retryMs = Math.max(1000, (o.config.interval_s * 1000) / 4);
  for (;;) {
    const cmp = await compareForClass(o.data, { pathIds: s.paths, class: s.class, current: window, baseline: o.baseline });
    if ((cmp.current && cmp.current.windows > 0) || o.clock.now() >= deadline) return cmp;
    await o.clock.sleep(Math.min(retryMs, deadline - o.clock.now()), o.signal);
  }
}

/** Bakes one step: measures every interval until the bake time is over or a limit is exceeded. */
export async function analyzeStep(o: AnalyzeOptions): Promise<GuardVerdict> {
  const scope = scopeOf(o.proposal, o.topology).filter((s) => s.paths.length > 0);
  const intervalMs = o.config.interval_s * 1000;
  const count = Math.max(1, Math.floor(o.bakeMs / intervalMs));
  const measurements: Measurement[] = [];
  let failures = 0;
  let inconclusive = 0;
  const verdict = (result: GuardVerdict['result'], reason: string): GuardVerdict => ({
    result,
    failures,
    inconclusive,
    measurements,
    reason,
  });
  if (scope.length === 0) return verdict('pass', 'no affected pair to measure');
  // Intervals keep a fixed schedule from the start of the bake: waiting for one interval's late data must
  // not push the next ones back, so a bake lasts its bake time plus at most one data lag.
  const startAt = o.clock.now();
  const stepMs = Math.min(intervalMs, o.bakeMs || intervalMs);
  for (let n = 0; n < count; n++) {
    const now = startAt + (n + 1) * stepMs;
    const wait = now - o.clock.now();
    if (wait > 0) await o.clock.sleep(wait, o.signal);
    for (const s of scope) {
      const cls = o.topology.classes.get(s.class);
      const cmp = await measureWhenArrived(o, s, { from: now - intervalMs, to: now });
      const j = cls
        ? judge(cmp, cls.slo, o.config.max_regression)
        : { result: 'inconclusive' as const, reasons: [`unknown class ${s.class}`] };
      const m: Measurement = { at: now, pair: s.pair, class: s.class, ...j, current: cmp.current, baseline: cmp.baseline };
      measurements.push(m);
      o.onMeasurement?.(m);
      if (j.result === 'fail') failures++;
      if (j.result === 'inconclusive') inconclusive++;
      if (failures > o.config.failure_limit)
        return verdict('fail', `${failures} failed measurements (limit ${o.config.failure_limit}): ${j.reasons.join('; ')}`);
      if (inconclusive > o.config.inconclusive_limit)
        return verdict('inconclusive', `${inconclusive} measurements without data (limit ${o.config.inconclusive_limit})`);
    }
  }
  return verdict('pass', `${measurements.length} measurements, ${failures} failed, ${inconclusive} without data`);
}
