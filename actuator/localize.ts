/**
 * Fault localization from overlapping path probes (network tomography): which link, or which segment —
 * links no probe path tells apart, because exactly the same paths cross them — is at fault.
 *
 * 1. **Segments.** Links are grouped by the set of probed paths that cross them; a fault on any link of a
 *    segment looks the same from every probe, so the segment is what can be named.
 * 2. **Bad paths.** A path is bad when its probes lost at least `min_loss` of what they sent (and at least
 *    `min_lost` probes), or, given a baseline, when its p95 RTT rose by `rtt_rise_ms` and by `rtt_rise_ratio`
 *    of the baseline.
 * 3. **Boolean tomography.** Every segment on a good path is good. The smallest set of the remaining
 *    segments that covers every bad path is the explanation (exact search up to `max_faults`, greedy
 *    beyond); bad paths no candidate covers (every segment on them seen good: noise or a path-level
 *    problem) are reported unexplained.
 * 4. **Loss tomography.** Least squares with non-negative link terms on the log delivery rates
 *    (−ln delivered = Σ over the path's segments of −ln segment delivery), solved by coordinate descent;
 *    the same on the RTT rises (a path's rise = Σ of its segments' added delay). They say how lossy and
 *    how slow each segment is, choose between equally small covers (the one explaining the most) and order
 *    the findings (by −ln delivery + added ms / 100).
 *
 * Confidence of a finding: its share of that estimate among the candidate segments that could explain
 * the same bad paths (1 when nothing else could).
 */

export interface PathObservation {
  path: string;
  /** The links the path crosses (their ids; a link is one segment of evidence whatever the direction). */
  links: readonly string[];
  sent: number;
  received: number;
  /** p95 RTT in the window, and before it (both: an RTT rise makes the path bad too). */
  rttP95Ms?: number;
  baselineRttP95Ms?: number;
}

export interface LocalizeOptions {
  min_loss?: number;
  min_lost?: number;
  rtt_rise_ms?: number;
  rtt_rise_ratio?: number;
  max_faults?: number;
}

export interface FaultFinding {
  /** The links of the segment at fault (one when the probes tell it apart). */
  links: string[];
  /** Estimated loss of the segment (0–1) from the loss tomography. */
  loss: number;
  /** Estimated delay the segment added (ms), from the RTT rises. */
  added_ms: number;
  /** 0–1: see the module comment. */
  confidence: number;
  /** The bad paths it explains. */
  paths: string[];
}

export interface Localization {
  bad: string[];
  findings: FaultFinding[];
  /** Bad paths no candidate segment explains. */
  unexplained: string[];
}

const DEFAULTS: Required<LocalizeOptions> = { min_loss: 0.02, min_lost: 2, rtt_rise_ms: 15, rtt_rise_ratio: 0.1, max_faults: 3 };

/** Exact minimum covers are searched while the candidates' combinations stay under this. */
const MAX_COMBINATIONS = 200_000;

function lossBad(o: PathObservation, opt: Required<LocalizeOptions>): boolean {
  const lost = o.sent - o.received;
  return o.sent > 0 && lost >= opt.min_lost && lost / o.sent >= opt.min_loss;
}

/** How much the path's p95 RTT rose over its baseline (ms; undefined without both). */
const rise = (o: PathObservation) =>
  o.rttP95Ms !== undefined && o.baselineRttP95Ms !== undefined && o.baselineRttP95Ms > 0 && o.rttP95Ms > 0
    ? o.rttP95Ms - o.baselineRttP95Ms
    : undefined;

function rttBad(o: PathObservation, opt: Required<LocalizeOptions>): boolean {
  const r = rise(o);
  return r !== undefined && r >= opt.rtt_rise_ms && r >= o.baselineRttP95Ms! * opt.rtt_rise_ratio;
}

/** Clearly no step of the size looked for: what clears a segment of a delay fault. */
function rttSteady(o: PathObservation, opt: Required<LocalizeOptions>): boolean {
  const r = rise(o);
  return r !== undefined && r < opt.rtt_rise_ms / 2;
}

/**
 * Non-negative least squares over the segment incidence (each path: y = Σ of its segments' x), by cyclic
 * coordinate descent: each x moves to its best value given the others, clamped at 0.
 */
function nnls(segments: readonly { paths: readonly number[] }[], y: readonly number[]): Float64Array {
  const x = new Float64Array(segments.length);
  const residual = Float64Array.from(y);
  for (let sweep = 0; sweep < 300; sweep++) {
    let moved = 0;
    segments.forEach((s, i) => {
      let grad = 0;
      for (const p of s.paths) grad += residual[p]!;
      const next = Math.max(0, x[i]! + grad / s.paths.length);
      const d = next - x[i]!;
      if (d === 0) return;
      x[i] = next;
      for (const p of s.paths) residual[p]! -= d;
      moved = Math.max(moved, Math.abs(d));
    });
    if (moved < 1e-9) break;
  }
  return x;
}

const isBad = (o: PathObservation, opt: Required<LocalizeOptions>) => lossBad(o, opt) || rttBad(o, opt);

/** k-subsets of 0..n-1 in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...idx];
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

const choose = (n: number, k: number) => {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
};

export function localizeFaults(observations: readonly PathObservation[], options: LocalizeOptions = {}): Localization {
  const opt = { ...DEFAULTS, ...options };
  const obs = observations.filter((o) => o.sent > 0 && o.links.length > 0);

  // 1. Segments: links with the same set of crossing paths.
  const pathsOf = new Map<string, number[]>();
  obs.forEach((o, p) => {
    for (const l of new Set(o.links)) pathsOf.set(l, [...(pathsOf.get(l) ?? []), p]);
  });
  const bySignature = new Map<string, string[]>();
  for (const [link, ps] of pathsOf) {
    const key = ps.join(',');
    bySignature.set(key, [...(bySignature.get(key) ?? []), link]);
  }
  const segments = [...bySignature.entries()].map(([key, links]) => ({ links: links.sort(), paths: key.split(',').map(Number) }));
  const segmentsOfPath: number[][] = obs.map(() => []);
  segments.forEach((s, i) => s.paths.forEach((p) => segmentsOfPath[p]!.push(i)));

  // 2. Bad paths.
  const bad = obs.map((o) => isBad(o, opt));
  const badPaths = obs.flatMap((o, p) => (bad[p] ? [p] : []));
  if (badPaths.length === 0) return { bad: [], findings: [], unexplained: [] };

  // 4 (first: it ranks the covers). Loss and delay tomography over every path, x ≥ 0 per segment.
  const lossX = nnls(
    segments,
    obs.map((o) => -Math.log(Math.min(1, (o.received + 0.5) / (o.sent + 1)))),
  );
  const delayX = nnls(
    segments,
    obs.map((o) => Math.max(0, rise(o) ?? 0)),
  );
  const x = lossX.map((l, i) => l + delayX[i]! / 100);

  // 3. Boolean tomography. A segment is good when the probes crossing it, all together, lost less than half
  // of `min_loss` (one clean path alone proves little: a 2 % loss leaves a tenth of 120-probe windows
  // without a single loss), and, when a crossing path's RTT rose, another crossing path's did not.
  // Candidates are the segments on bad paths that are not good.
  const good = new Set<number>();
  segments.forEach((s, i) => {
    let sent = 0;
    let received = 0;
    for (const p of s.paths) {
      sent += obs[p]!.sent;
      received += obs[p]!.received;
    }
    const lossLow = (sent - received) / sent < opt.min_loss / 2;
    const rose = s.paths.some((p) => rttBad(obs[p]!, opt));
    const steady = s.paths.some((p) => rttSteady(obs[p]!, opt));
    if (lossLow && (!rose || steady)) good.add(i);
  });
  const candidates = [...new Set(badPaths.flatMap((p) => segmentsOfPath[p]!))].filter((s) => !good.has(s));
  const coverable = badPaths.filter((p) => segmentsOfPath[p]!.some((s) => !good.has(s)));
  const unexplained = badPaths.filter((p) => !coverable.includes(p)).map((p) => obs[p]!.path);
  const covers = (set: readonly number[]) => coverable.every((p) => segmentsOfPath[p]!.some((s) => set.includes(s)));
  const mass = (set: readonly number[]) => set.reduce((a, s) => a + x[s]!, 0);

  let chosen: number[] = [];
  for (let k = 1; k <= Math.min(opt.max_faults, candidates.length) && !chosen.length; k++) {
    if (choose(candidates.length, k) > MAX_COMBINATIONS) break;
    let best: number[] | undefined;
    for (const pick of subsets(candidates.length, k)) {
      const set = pick.map((i) => candidates[i]!);
      if (covers(set) && (!best || mass(set) > mass(best))) best = set;
    }
    if (best) chosen = best;
  }
  if (!chosen.length && coverable.length) {
    // Greedy: the segment covering most uncovered bad paths (more estimated loss on a tie).
    const left = new Set(coverable);
    while (left.size) {
      let pick = -1;
      let gain = 0;
      for (const s of candidates) {
        const g = segments[s]!.paths.filter((p) => left.has(p)).length;
        if (g > gain || (g === gain && g > 0 && x[s]! > x[pick]!)) [pick, gain] = [s, g];
      }
      if (pick < 0) break;
      chosen.push(pick);
      for (const p of segments[pick]!.paths) left.delete(p);
    }
  }

  const findings = chosen.map((s) => {
    const mine = coverable.filter((p) => segmentsOfPath[p]!.includes(s));
    // Candidates that could explain the same bad paths compete for the confidence.
    const rivals = candidates.filter((c) => mine.some((p) => segmentsOfPath[p]!.includes(c)));
    const rivalMass = rivals.reduce((a, c) => a + x[c]!, 0);
    const share = rivalMass > 0 ? x[s]! / rivalMass : 1 / rivals.length;
    return {
      links: segments[s]!.links,
      loss: Math.round((1 - Math.exp(-lossX[s]!)) * 1e4) / 1e4,
      added_ms: Math.round(delayX[s]! * 10) / 10,
      confidence: Math.round(share * (mine.length / Math.max(1, coverable.length)) * 1000) / 1000,
      paths: mine.map((p) => obs[p]!.path),
    };
  });
  const score = (f: FaultFinding) => -Math.log(1 - Math.min(f.loss, 0.9999)) + f.added_ms / 100;
  findings.sort((a, b) => score(b) - score(a));
  return { bad: badPaths.map((p) => obs[p]!.path), findings, unexplained };
}
