/**
 * bench:forecast:origins — the origin protocol of `pathpilot forecast backtest` (optimizer/forecast/origins.ts)
 * at the issue's scale and on real traffic when there is enough of it:
 * 1. training every model for 1,000 series × 14 days of 15-minute data (10 days of training) on one core,
 *    target ≤ 60 s;
 * 2. real traffic: the GÉANT traffic matrix (`../shared/data/traffic/geant_15min_mbps.csv.gz`, not in the
 *    repository: see its license), or the `time,src,dst,mbps` files given with `--data`: 30 largest OD
 *    pairs, train 10 days, hourly origins, MASE at 1 h ≤ 0.46 and at 1 d ≤ 1.28, p90 coverage 85–95 %.
 *    A file of 11–14 days is tested on what follows the 10 training days (said so); a shorter one is
 *    scored on its last 30 % beside the best baseline, without a target ratio.
 * `npm run bench:forecast:origins [-- --series 1000 --data FILE --data FILE2]`.
 */
import { existsSync } from 'node:fs';
import { Rng } from '../../lab/twin/rng.ts';
import { readSeriesCsv } from '../../optimizer/forecast/csv.ts';
import { originBacktest, type OriginReport } from '../../optimizer/forecast/origins.ts';
import { pathpilotSelection, type StepSeries } from '../../optimizer/forecast/point-models.ts';

/** Where the GÉANT matrix is kept on these machines (outside the repository). */
export const geantFile = '../shared/data/traffic/geant_15min_mbps.csv.gz';

export const originProtocolOptions = {
  series: { type: 'string', default: '1000' },
  data: { type: 'string', multiple: true },
} as const;

const step = 900_000;
const day = 96;
const start = Date.UTC(2026, 0, 5);

/** Diurnal traffic with a weekly dip, a slow random walk in level and noise (seeded). */
function synthetic(key: string, days: number): StepSeries {
  const rng = new Rng(7, key);
  const base = 20 + 400 * rng.next();
  let level = base;
  const values: number[] = [];
  for (let i = 0; i < days * day; i++) {
    level = Math.max(base * 0.3, level + 0.01 * base * rng.normal());
    const weekend = Math.floor(i / day) % 7 >= 5 ? 0.7 : 1;
    values.push(
      Math.max(0, level * weekend * (1 + 0.45 * Math.sin((2 * Math.PI * (i - 30)) / day)) + 0.06 * base * rng.normal()),
    );
  }
  return { key, values, stepMs: step, startMs: start };
}

/** The issue's 1 h and 1 d targets as a share of persistence's MASE (≥ 15 % better). */
const PERSISTENCE_TARGET = 0.85;

const ratio = (target: number, got: number) => (got > 0 ? (target / got).toFixed(2) : '∞');

function print(r: OriginReport, targets?: Record<string, number>): void {
  for (const h of r.horizons) {
    const best = r.best_baseline[h.label]!;
    const mine = r.scores['pathpilot']![h.label]!;
    const t = targets?.[h.label];
    // The issue's targets are ≥ 15 % better than persistence on its own cut of GÉANT; on another cut the
    // absolute MASE moves with the data, so the ratio to persistence is printed beside it.
    const vsPersistence = mine.mase / r.scores['persistence']![h.label]!.mase;
    console.log(
      `  ${h.label.padEnd(4)} pathpilot (${r.chosen[h.label]}) MASE ${mine.mase.toFixed(3)} vs best baseline ${best.model} ${best.mase.toFixed(3)} (×${(mine.mase / best.mase).toFixed(3)}); p90 coverage ${(mine.p90_coverage * 100).toFixed(1)}% (target 85–95%)${
        t
          ? `; target ≤ ${t}: ratio ${ratio(t, mine.mase)}; × persistence ${vsPersistence.toFixed(3)} (target ≤ ${PERSISTENCE_TARGET}: ratio ${ratio(PERSISTENCE_TARGET, vsPersistence)})`
          : ''
      }`,
    );
  }
}

/** Runs both parts: `series` synthetic series for the training time, then each real traffic file. */
export async function originProtocolBench(values: { series: string; data?: string[] | undefined }): Promise<void> {
  // 1. Training time at scale: what `fit` costs for pathpilot's models (the ridge and its validated selection).
  const n = Number(values.series);
  const big = Array.from({ length: n }, (_, i) => synthetic(`s${i}`, 14));
  const trainEnd = big.map(() => 10 * day);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const selection = pathpilotSelection();
  selection.fit!(big, trainEnd, day, 7 * day, [1, 4, 96]);
  const fitS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `training pathpilot's forecast (ridge per horizon + validated selection) on ${n} series × 14 days of 15-min data: ${fitS.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, one thread (target 60 s, ratio ${ratio(60, fitS)}); chose ${JSON.stringify(Object.fromEntries(selection.chosen))}`,
  );

  // 2. Real traffic, when present: GÉANT by default, or any `time,src,dst,mbps` files given with --data.
  for (const file of values.data ?? [geantFile]) {
    if (!existsSync(file)) {
      console.log(`${file}: not found (real traffic is kept out of the repository, see SOURCES.md): not scored`);
      continue;
    }
    const { series, missing } = await readSeriesCsv(file);
    const mean = (s: { values: readonly number[] }) => {
      const f = s.values.filter(Number.isFinite);
      return f.reduce((a, b) => a + b, 0) / Math.max(1, f.length);
    };
    const top = [...series].sort((a, b) => mean(b) - mean(a)).slice(0, 30);
    const first = Math.min(...top.map((s) => s.ctx.startMs));
    const span = Math.max(...top.map((s) => s.ctx.startMs + s.values.length * s.ctx.stepMs)) - first;
    const days = span / 86_400_000;
    // The protocol: 14 days, train 10. With 11 to 14 days, train 10 and test what is left (the targets are
    // printed, the shorter test said); with less, train on the first 70 % and print no target.
    const protocol = days >= 11;
    const trainEndMs = protocol ? first + 10 * 86_400_000 : first + Math.floor((0.7 * span) / step) * step;
    const horizons = protocol || days * 0.3 >= 1 ? [step, 3_600_000, 86_400_000] : [step, 3_600_000];
    const data = top.map((s) => {
      const end = Math.min(s.values.length, 14 * day);
      return { key: s.key, values: s.values.slice(0, end), stepMs: s.ctx.stepMs, startMs: s.ctx.startMs };
    });
    const testDays = Math.min(14, days) - 10;
    console.log(
      `${file}: ${series.length} series over ${days.toFixed(1)} days (${missing} missing steps kept missing); the 30 largest, ${
        days >= 14
          ? "train 10 days, hourly origins over the next 4 (the issue's protocol)"
          : protocol
            ? `train 10 days, hourly origins over the ${testDays.toFixed(1)} left (the protocol tests 4)`
            : `only ${days.toFixed(1)} days: trained on the first 70 %, hourly origins after it, no target ratio`
      }`,
    );
    const t0 = performance.now();
    const r = originBacktest(data, { trainEndMs, originEveryMs: 3_600_000, horizonsMs: horizons });
    console.log(`  (every model fitted and scored in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    print(r, protocol ? { '1h': 0.46, '1d': 1.28 } : undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  await originProtocolBench(parseArgs({ options: originProtocolOptions }).values);
}
