/**
 * bench:outcome — does the closed loop earn its keep? Runs the whole loop (`pathpilot demo --auto`, the
 * embedded default, lockstep clock) on the four builtin scenarios × 3 seeds, 24 simulated hours each,
 * beside static routing and the hindsight oracle, and prints every figure with its ratio to the issue's
 * target (ratio ≥ 1 meets it):
 * - cost-pressure: egress cost ≥ 25 % below static, no more SLO pair-class minutes than static, ≥ 80 % of
 *   the oracle's saving;
 * - degradation-and-failover: SLO restored within 60 simulated s of the breach becoming detectable (one
 *   probe window after it starts), and fewer violation minutes than static;
 * - flash-crowd: no link direction above 90 % utilisation for more than 5 minutes where the oracle keeps
 *   it below;
 * - steady: at most one change per day.
 * OUTCOME_SCENARIOS, OUTCOME_SEEDS (comma lists) and OUTCOME_HOURS narrow it; OUTCOME_SPEEDUP paces it
 * (default 0: as fast as the machine goes — the result does not depend on it).
 */
import { runDemo, type DemoSummary } from '../../app/demo.ts';
import { capturedSaving } from '../../app/outcome/summary.ts';
import { createLogger } from '../../core/log.ts';
import type { TwinEngine } from '../../lab/twin/index.ts';

const SCENARIOS = (process.env.OUTCOME_SCENARIOS ?? 'cost-pressure,degradation-and-failover,flash-crowd,steady').split(',');
const SEEDS = (process.env.OUTCOME_SEEDS ?? '7,8,9').split(',').map(Number);
const HOURS = Number(process.env.OUTCOME_HOURS ?? 24);
const SPEEDUP = Number(process.env.OUTCOME_SPEEDUP ?? 0);
const TICK_S = 60;

type Run = 'pathpilot' | 'static' | 'oracle';

/** What the bench follows tick by tick: which demands broke their SLO, and link directions above 90 %. */
interface Trace {
  /** Per tick: "pair|class" keys in breach during that tick. */
  breaching: Set<string>[];
  /** Per link direction ("link:a_to_b"): ticks above 90 % utilisation. */
  hot: Map<string, number>;
  /** Ticks at which the routing (every pair-class split the routers make) differed from the tick before. */
  changes: number[];
  /** The last tick's routing, as a comparable string. */
  routing?: string;
}

function tracer(): { traces: Record<Run, Trace>; onTick(run: Run, engine: TwinEngine): void } {
  const traces = {} as Record<Run, Trace>;
  const last = {} as Record<Run, Map<string, number>>;
  return {
    traces,
    onTick(run, engine) {
      const s = engine.state();
      const trace = (traces[run] ??= { breaching: [], hot: new Map(), changes: [] });
      const before = (last[run] ??= new Map());
      const now = new Set<string>();
      for (const [pair, byClass] of Object.entries(s.slo_violation_minutes))
        for (const [cls, minutes] of Object.entries(byClass)) {
          const key = `${pair}|${cls}`;
          if (minutes > (before.get(key) ?? 0)) now.add(key);
          before.set(key, minutes);
        }
      trace.breaching.push(now);
      // What the routers do, read from the twin (it routes by their config): a change is any split moving.
      const routing = Object.entries(s.paths)
        .flatMap(([path, p]) => Object.entries(p.share).map(([cls, f]) => `${path}|${cls}:${f.toFixed(2)}`))
        .sort()
        .join(',');
      if (trace.routing !== undefined && routing !== trace.routing) trace.changes.push(trace.breaching.length - 1);
      trace.routing = routing;
      for (const [link, dirs] of Object.entries(s.links))
        for (const [dir, snap] of Object.entries(dirs))
          if (snap.utilization > 0.9) trace.hot.set(`${link}:${dir}`, (trace.hot.get(`${link}:${dir}`) ?? 0) + 1);
    },
  };
}

/**
 * Seconds from a breach becoming detectable (the end of its first tick in breach: one probe window) to
 * the tick the pair-class is back within its SLO, for every breach that static routing also suffers
 * (the scenario's incidents, not pathpilot's own doing); the worst one.
 */
function worstRestoreS(pathpilot: Trace, statik: Trace): { s: number; key: string; minute: number } | undefined {
  let worst: { s: number; key: string; minute: number } | undefined;
  const n = Math.min(pathpilot.breaching.length, statik.breaching.length);
  for (let t = 0; t < n; t++) {
    for (const key of pathpilot.breaching[t]!) {
      if (t > 0 && pathpilot.breaching[t - 1]!.has(key)) continue; // not the start of a breach
      if (!statik.breaching[t]!.has(key)) continue;
      let end = t;
      while (end < n && pathpilot.breaching[end]!.has(key)) end++;
      // Detectable at the end of tick t; restored at the start of tick `end`.
      const restore = Math.max(0, (end - t - 1) * TICK_S);
      if (!worst || restore > worst.s) worst = { s: restore, key, minute: t };
    }
  }
  return worst;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ratio = (x: number | undefined) => (x === undefined ? 'n/a' : x === Infinity ? '∞' : x.toFixed(2));

function report(s: DemoSummary, traces: Record<Run, Trace>): string[] {
  const cost = s.egress_cost_usd;
  const slo = s.slo_violation_pair_class_minutes;
  const saving = cost.static > 0 ? (cost.static - cost.pathpilot) / cost.static : 0;
  const oracleSaving = cost.static > 0 ? (cost.static - cost.oracle) / cost.static : 0;
  const captured = capturedSaving(cost);
  const lines = [
    `  cost $ pathpilot ${cost.pathpilot.toFixed(2)} static ${cost.static.toFixed(2)} oracle ${cost.oracle.toFixed(2)}: saving ${pct(saving)} (oracle ${pct(oracleSaving)}), captured ${captured === undefined ? 'n/a' : pct(captured)}`,
    `  SLO pair-class min pathpilot ${slo.pathpilot} static ${slo.static} oracle ${slo.oracle}; proposals ${s.proposals}, applied ${s.applied}, rolled back ${s.rolled_back}; wall ${s.wall_s} s`,
  ];
  if (s.scenario === 'cost-pressure') {
    lines.push(`  target saving ≥ 25%: ${pct(saving)} ratio ${ratio(saving / 0.25)}`);
    lines.push(`  target SLO minutes ≤ static: ratio ${ratio(slo.pathpilot === 0 ? Infinity : slo.static / slo.pathpilot)}`);
    lines.push(
      `  target ≥ 80% of the oracle saving: ${captured === undefined ? 'n/a' : pct(captured)} ratio ${ratio(captured === undefined ? undefined : captured / 0.8)}`,
    );
  } else if (s.scenario === 'degradation-and-failover') {
    const restore = worstRestoreS(traces.pathpilot, traces.static);
    lines.push(
      `  target restored ≤ 60 s after detectable: worst ${restore ? `${restore.s} s (${restore.key} from minute ${restore.minute})` : 'no breach'} ratio ${ratio(restore === undefined ? undefined : restore.s === 0 ? Infinity : 60 / restore.s)}`,
    );
    lines.push(
      `  target fewer SLO minutes than static: ratio ${ratio(slo.pathpilot === 0 ? Infinity : slo.static / slo.pathpilot)}`,
    );
  } else if (s.scenario === 'flash-crowd') {
    let worst = 0;
    let where = '';
    for (const [dir, ticks] of traces.pathpilot.hot)
      if (!traces.oracle.hot.has(dir) && ticks > worst) [worst, where] = [ticks, dir];
    const minutes = (worst * TICK_S) / 60;
    lines.push(
      `  target ≤ 5 min above 90% where the oracle stays below: worst ${minutes} min${where ? ` (${where})` : ''} ratio ${ratio(minutes === 0 ? Infinity : 5 / minutes)}`,
    );
  } else if (s.scenario === 'steady') {
    // Static routing breaks an SLO from the first minute (and costs more): the loop's first changes fix
    // that. Churn is what follows once it has converged (the first hour without a routing change).
    const changes = traces.pathpilot.changes;
    const ticks = traces.pathpilot.breaching.length;
    // Never converged (changing until the last hour): every change is churn.
    const settled = changes.findIndex((t, i) => (changes[i + 1] ?? ticks) - t >= 60);
    const startTick = settled < 0 ? 0 : changes[settled]! + 1;
    const later = settled < 0 ? changes.length : changes.length - settled - 1;
    const days = Math.max(1e-9, (ticks - startTick) / 1440);
    const perDay = later / days;
    lines.push(
      `  routing changes: ${changes.length} in all, converged after ${(startTick / 60).toFixed(1)} h (${settled + 1} changes)`,
    );
    lines.push(
      `  target ≤ 1 change per day once converged: ${perDay.toFixed(1)} ratio ${ratio(perDay === 0 ? Infinity : 1 / perDay)}`,
    );
  }
  return lines;
}

const log = createLogger({ level: process.env.PATHPILOT_LOG_LEVEL ?? 'error', destination: process.stderr });
console.log(`outcome bench: ${SCENARIOS.join(', ')} × seeds ${SEEDS.join(', ')}, ${HOURS} simulated hours, --auto`);
for (const scenario of SCENARIOS) {
  for (const seed of SEEDS) {
    const t = tracer();
    const summary = await runDemo({
      scenario,
      seed,
      auto: true,
      durationMs: HOURS * 3_600_000,
      speedup: SPEEDUP,
      apiPort: 0,
      log,
      onTick: t.onTick,
    });
    console.log(`${scenario} seed ${seed}: ${summary.simulated_hours} h`);
    for (const line of report(summary, t.traces)) console.log(line);
  }
}
