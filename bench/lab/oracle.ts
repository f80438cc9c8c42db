/**
 * bench:oracle — what routing could achieve on each builtin scenario (default topology, 24 h from the
 * scenario start): static routing (seed configs), the hindsight oracle (TE plan every 5 minutes with the
 * true future) and the lagged offline planner (the same with only the past hour), each run through
 * emulated routers and the twin. Prints egress cost, GB, SLO pair-class minutes and wall seconds.
 * ORACLE_BENCH_HOURS changes the span (the degradation and flash-crowd events start at 14 h and 13 h),
 * ORACLE_BENCH_SCENARIOS the list, ORACLE_BENCH_INTENTS=all also applies the plan's shapers and QoS.
 */
import { exampleConfigPath, loadConfig } from '../../core/config/index.ts';
import type { TwinState } from '../../lab/twin/index.ts';
import { runPlanned, runStatic } from '../../app/outcome/oracle.ts';
import { sloPairClassMinutes as sloMinutes } from '../../app/outcome/summary.ts';

const HOURS = Number(process.env.ORACLE_BENCH_HOURS ?? 24);
const SCENARIOS = (process.env.ORACLE_BENCH_SCENARIOS ?? 'steady,cost-pressure,degradation-and-failover,flash-crowd').split(',');
const INTENTS = process.env.ORACLE_BENCH_INTENTS === 'all' ? 'all' : 'routing';

const root = loadConfig(exampleConfigPath, {}).root;
const startMs = Date.UTC(2026, 0, 5);

async function timed(run: () => Promise<TwinState>): Promise<{ state: TwinState; wall: number }> {
  const t0 = performance.now();
  const state = await run();
  return { state, wall: (performance.now() - t0) / 1000 };
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: number, d: number, n: number) => v.toFixed(d).padStart(n);
console.log(`oracle bench: ${HOURS} h per scenario, intents ${INTENTS}, default topology`);
console.log(
  `${pad('scenario', 26)}${pad('run', 8)}${'cost $'.padStart(10)}${'GB'.padStart(9)}${'SLO min'.padStart(9)}${'saving'.padStart(8)}${'wall s'.padStart(8)}`,
);
for (const scenario of SCENARIOS) {
  const base = { root, scenario, startMs, durationMs: HOURS * 3_600_000 };
  const runs: [string, () => Promise<TwinState>][] = [
    ['static', () => runStatic(base)],
    ['oracle', () => runPlanned({ ...base, knowledge: 'perfect', intents: INTENTS })],
    ['lagged', () => runPlanned({ ...base, knowledge: 'lagged', intents: INTENTS })],
  ];
  let staticCost = 0;
  for (const [name, run] of runs) {
    const { state, wall } = await timed(run);
    if (name === 'static') staticCost = state.egress.cost_total;
    const saving = staticCost > 0 ? (1 - state.egress.cost_total / staticCost) * 100 : 0;
    console.log(
      `${pad(scenario, 26)}${pad(name, 8)}${num(state.egress.cost_total, 2, 10)}${num(state.egress.gb_total, 0, 9)}` +
        `${num(sloMinutes(state), 0, 9)}${`${saving.toFixed(1)}%`.padStart(8)}${num(wall, 1, 8)}`,
    );
  }
}
