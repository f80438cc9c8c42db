/**
 * The SLO guard, Argo-Rollouts style: during a step's bake time it takes one measurement per
 * interval of every affected (pair, class) — p95 RTT, loss and jitter of its new paths in the last
 * interval — and compares it with the class SLO and with the pre-change baseline: what the traffic
 * experienced on the paths it took before, in the window before the change.
 * A measurement fails when a metric breaks its SLO where the baseline held it, or regresses by more
 * than `max_regression`: the question is whether the change made things worse, so a pair already out of
 * SLO before (a surge, an incident) does not roll back the change that relieves it. A measurement
 * without data is inconclusive. The step fails once failures exceed `failure_limit` or inconclusive
 * measurements exceed `inconclusive_limit` (missing data fails safe).
 */
import type { Clock } from '../../core/clock.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { ActuationConfig } from '../../core/config/schema.ts';
import type { Store } from '../../core/store/types.ts';
import type { Proposal } from '../../core/proposal.ts';
import { compareWindows, linkUtilization, trafficMatrix, windowQualityByPath } from '../../analytics/queries/index.ts';
import type { LoadData } from '../headroom.ts';
import type { TimeRange, WindowComparison, WindowQuality } from '../../analytics/queries/types.ts';

/** A window of some paths against a baseline window (of `baselinePathIds` when given, else the same paths). */
export interface CompareQuery {
  pathIds: string[];
  baselinePathIds?: string[];
  class?: string;
  current: TimeRange;
  baseline: TimeRange;
}

/** What the guard reads; implemented over analytics/queries, faked in unit tests. */
export interface GuardData {
  compare(q: CompareQuery): Promise<WindowComparison>;
  /**
   * Every path's window quality at once, keyed `${path}|${class}` and `${path}|*` (every class): the
   * self-heal pass judges all paths each interval, one query instead of one per path and class.
   */
  qualityByPath?(range: TimeRange): Promise<ReadonlyMap<string, WindowQuality>>;
  /** Link load and pair traffic: the self-heal fails over only onto paths with room (headroom.ts). */
  load?: LoadData;
}

export function guardDataFromStore(store: Store): GuardData {
  return {
    compare: (q) => compareWindows(store, q),
    qualityByPath: (range) => windowQualityByPath(store, range),
    load: {
      // Interface counters see every link a router sends over (flow records only the first hop).
      async linkLoad(range) {
        const sums = new Map<string, { bps: number; n: number }>();
        for (const p of await linkUtilization(store, { range, source: 'iface' })) {
          const key = `${p.link}|${p.router}`;
          const acc = sums.get(key) ?? { bps: 0, n: 0 };
          acc.bps += p.bps;
          acc.n++;
          sums.set(key, acc);
        }
        return new Map([...sums].map(([k, v]) => [k, v.bps / v.n / 1e6]));
      },
      async pairTraffic(range, from, to) {
        const cells = await trafficMatrix(store, { range, sites: [from] });
        return cells.filter((c) => c.dst_site === to).reduce((a, c) => a + c.bps / 1e6, 0);
      },
    },
  };
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

type Slo = { rtt_p95_ms: number; loss_pct: number; jitter_ms: number };

/**
 * Share of a class SLO limit an RTT or jitter rise must exceed to count as a regression: on a quiet path a
 * relative threshold alone fires on noise (jitter 1.9 → 4.0 ms is +109 %, and nothing against a 60 ms SLO),
 * and rolls back failovers whose moved load barely touched the classes sharing the path.
 */
export const SIGNIFICANT_SLO_SHARE = 0.1;

/**
 * Regressions of `cur` against `base`, by metric: RTT and jitter beyond `maxRegression` and by more than
 * `SIGNIFICANT_SLO_SHARE` of the SLO limit (jitter: at least 1 ms); loss by more than half the SLO's budget.
 */
function regressions(cur: WindowQuality, base: WindowQuality, slo: Slo, maxRegression: number): Map<string, string> {
  const out = new Map<string, string>();
  const rel = (c: number, b: number) => (b > 0 ? (c - b) / b : c > 0 ? Infinity : 0);
  const rtt = rel(cur.rtt_p95_ms, base.rtt_p95_ms);
  if (rtt > maxRegression && cur.rtt_p95_ms - base.rtt_p95_ms > SIGNIFICANT_SLO_SHARE * slo.rtt_p95_ms)
    out.set('rtt', `p95 RTT +${(rtt * 100).toFixed(0)}% vs baseline ${base.rtt_p95_ms.toFixed(1)} ms`);
  const jitter = rel(cur.jitter_ms, base.jitter_ms);
  const jitterFloor = Math.max(1, SIGNIFICANT_SLO_SHARE * slo.jitter_ms);
  if (base.jitter_ms > 0 && jitter > maxRegression && cur.jitter_ms - base.jitter_ms > jitterFloor)
    out.set('jitter', `jitter +${(jitter * 100).toFixed(0)}% vs baseline`);
  const loss = cur.loss_ratio - base.loss_ratio;
  if (loss * 100 > slo.loss_pct / 2) out.set('loss', `loss +${(loss * 100).toFixed(2)} pts vs baseline`);
  return out;
}

/**
 * Judges one comparison against a class SLO. `cmp` holds the new paths now and in their own baseline
 * window; `before`, when the change moved traffic between paths, is what the traffic experienced on its
 * previous paths in the baseline window. Then:
 * - an SLO objective broken now fails only when the traffic held it before (a pair already out of SLO
 *   before — a surge, an incident — does not roll back the change that relieves it);
 * - a regression fails only when it is one against both baselines: a path that got worse than it was
 *   (congested by the moved load, or degrading) and worse than what the traffic had. A planned move onto a
 *   slower path within the SLO (cheaper, and expected to be slower) is not a regression of that path, and
 *   relief onto backups that slow down under the load, yet beat the congested primary, is not one either.
 */
export function judge(
  cmp: WindowComparison,
  slo: Slo,
  maxRegression: number,
  before?: WindowQuality | null,
): { result: MeasurementResult; reasons: string[]; broken: SloObjective[] } {
  const cur = cmp.current;
  if (!cur || cur.windows === 0) return { result: 'inconclusive', reasons: ['no probe data in the interval'], broken: [] };
  const reasons: string[] = [];
  const broken: SloObjective[] = [];
  const own = cmp.baseline && cmp.baseline.windows > 0 ? cmp.baseline : null;
  const previous = before && before.windows > 0 ? before : own;
  const breaks = (objective: SloObjective, now: number, then: number | undefined, limit: number, text: string) => {
    if (now <= limit) return;
    broken.push(objective);
    if (then === undefined || then <= limit) reasons.push(text);
  };
  breaks(
    'rtt_p95',
    cur.rtt_p95_ms,
    previous?.rtt_p95_ms,
    slo.rtt_p95_ms,
    `p95 RTT ${cur.rtt_p95_ms.toFixed(1)} ms > SLO ${slo.rtt_p95_ms} ms`,
  );
  breaks(
    'loss',
    cur.loss_ratio * 100,
    previous ? previous.loss_ratio * 100 : undefined,
    slo.loss_pct,
    `loss ${(cur.loss_ratio * 100).toFixed(2)}% > SLO ${slo.loss_pct}%`,
  );
  breaks(
    'jitter',
    cur.jitter_ms,
    previous?.jitter_ms,
    slo.jitter_ms,
    `jitter ${cur.jitter_ms.toFixed(1)} ms > SLO ${slo.jitter_ms} ms`,
  );
  if (own) {
    const mine = regressions(cur, own, slo, maxRegression);
    const theirs = previous && previous !== own ? regressions(cur, previous, slo, maxRegression) : mine;
    for (const [metric, text] of mine) if (theirs.has(metric)) reasons.push(text);
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

interface GuardScope {
  pair: [string, string];
  class: string;
  paths: string[];
  /** Baseline paths: where the traffic went before the change (the new paths when unknown). */
  pathsBefore: string[];
}

function scopeOf(proposal: Proposal, topology: Topology): GuardScope[] {
  const scope: { pair: [string, string]; class: string; paths: string[]; paths_before?: string[] }[] = proposal.scope.length
    ? proposal.scope
    : proposal.intents
        .filter((i) => i.kind === 'path-weights' || i.kind === 'class-pin')
        .map((i) => ({ pair: (i as { pair: [string, string] }).pair, class: (i as { class: string }).class, paths: [] }));
  return scope.map((s) => {
    const paths = s.paths.length ? s.paths : topology.pathsFor(s.pair[0], s.pair[1]).map((p) => p.id);
    return { pair: s.pair, class: s.class, paths, pathsBefore: s.paths_before?.length ? s.paths_before : paths };
  });
}

/**
 * Compares a window with its baseline for one class. Probe agents often send one DSCP per path (the twin
 * and most TWAMP setups probe with the most important class only): when the class has no probes of its
 * own in either window, the path's probes of any class stand in. Quality is the path's; the class only
 * sets the thresholds it is judged by.
 */
export async function compareForClass(data: GuardData, q: CompareQuery & { class: string }): Promise<WindowComparison> {
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
  s: GuardScope,
  window: TimeRange,
): Promise<{ cmp: WindowComparison; before?: WindowQuality | null }> {
  const deadline = window.to + o.config.max_data_lag_s * 1000;
  const retryMs = Math.max(1000, (o.config.interval_s * 1000) / 4);
  const query = { pathIds: s.paths, class: s.class, current: window, baseline: o.baseline };
  for (;;) {
    const cmp = await compareForClass(o.data, query);
    if ((cmp.current && cmp.current.windows > 0) || o.clock.now() >= deadline) {
      if (s.pathsBefore.join() === s.paths.join()) return { cmp };
      // What the traffic had on its previous paths in the same baseline window.
      const moved = await compareForClass(o.data, { ...query, baselinePathIds: s.pathsBefore });
      return { cmp, before: moved.baseline };
    }
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
      const { cmp, before } = await measureWhenArrived(o, s, { from: now - intervalMs, to: now });
      const j = cls
        ? judge(cmp, cls.slo, o.config.max_regression, before)
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
