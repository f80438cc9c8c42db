/**
 * bench:forecast — on the lab's traffic (lab/twin network model, default topology, 21 days at 5 min):
 * trains every model the optimizer uses (rolling-origin backtest with per-series selection, the final
 * quantile MLP, the failure-risk classifier) — target ≤ 120 s — and reports the share of series where the
 * per-series selection's mean MASE at 1 h and 1 d on the held-out origins beside the best baseline's
 * (persistence, seasonal naive, Holt-Winters). Then the origin protocol of `forecast backtest`
 * (forecast-origins.ts) is run: training time for 1,000 series and the scores on real traffic.
 * `npm run bench:forecast [-- --days 21 --scenario steady --table --series 1000 --data FILE …]`.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SimulatedClock } from '../../core/clock.ts';
import { defaultOptimizerConfig } from '../../optimizer/config.ts';
import { OptimizerEngine } from '../../optimizer/engine.ts';
import { labData } from '../../lab/twin/lab-data.ts';
import { originProtocolBench, originProtocolOptions } from './forecast-origins.ts';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '21' },
    scenario: { type: 'string', default: 'steady' },
    table: { type: 'boolean', default: false },
    ...originProtocolOptions,
  },
});
const t0 = performance.now();
const lab = labData({ days: Number(values.days), scenario: values.scenario });
console.log(`lab data: ${values.days} days of ${values.scenario} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const engine = new OptimizerEngine(
  { data: lab.data, root: lab.root, clock: new SimulatedClock(lab.endMs) },
  { ...defaultOptimizerConfig, history_h: Number(values.days) * 24 },
);
const t1 = performance.now();
const cpu0 = process.cpuUsage();
const trained = await engine.train();
const trainS = (performance.now() - t1) / 1000;
const cpuUsed = process.cpuUsage(cpu0);
const trainCpuS = (cpuUsed.user + cpuUsed.system) / 1e6;
const bt = engine.lastBacktest!;
if (values.table) {
  console.log(
    `${'series'.padEnd(44)} ${'selected'.padEnd(15)} ${bt.horizons.map((h) => `MASE ${h.label} sel / ${bt.vsBestBaseline[h.label]!.baseline}`.padEnd(30)).join(' ')}`,
  );
  for (const s of bt.series)
    console.log(
      `${s.key.padEnd(44)} ${s.selected.padEnd(15)} ${bt.horizons
        .map((h) =>
          `${s.test[s.selected]![h.label]!.mase.toFixed(3)} / ${s.test[bt.vsBestBaseline[h.label]!.baseline]![h.label]!.mase.toFixed(3)}`.padEnd(
            30,
          ),
        )
        .join(' ')}`,
    );
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log('mean test scores per model (all series):');
for (const m of bt.models)
  console.log(
    `  ${m.padEnd(15)} ${bt.horizons
      .map((h) => {
        const sc = bt.series.map((s) => s.test[m]![h.label]!);
        return `${h.label}: MASE ${mean(sc.map((x) => x.mase)).toFixed(3)} sMAPE ${mean(sc.map((x) => x.smape)).toFixed(1)}% pinball50 ${mean(sc.map((x) => x.pinball50)).toFixed(2)} pinball90 ${mean(sc.map((x) => x.pinball90)).toFixed(2)}`;
      })
      .join(' | ')}`,
  );
const counts: Record<string, number> = {};
for (const s of bt.series) counts[s.selected] = (counts[s.selected] ?? 0) + 1;
console.log(
  `series: ${bt.series.length}, selected: ${JSON.stringify(counts)}; versions ${trained.traffic.version}${trained.risk ? `, ${trained.risk.version}` : ''}`,
);
if (engine.lastRiskBacktest) {
  for (const [m, sc] of Object.entries(engine.lastRiskBacktest.models))
    console.log(
      `failure risk (${engine.lastRiskBacktest.horizon_windows} windows ahead) ${m.padEnd(12)} AUC ${sc.auc.toFixed(3)} Brier ${sc.brier.toFixed(4)} precision@${sc.k} ${sc.precision_at_k.toFixed(2)} (${sc.positives}/${sc.samples} positive)`,
    );
}
console.log(
  `  of which backtest MLP training ${(bt.trainMs / 1000).toFixed(1)} s, backtest evaluation ${(bt.evalMs / 1000).toFixed(1)} s, excluded series (constant): ${bt.excluded.length}`,
);
console.log(
  `  traffic models ${(trained.traffic.train_ms / 1000).toFixed(1)} s, risk classifier ${((trained.risk?.train_ms ?? 0) / 1000).toFixed(1)} s`,
);
const ok = trainS <= 120;
console.log(
  `training every model: ${trainS.toFixed(1)} s wall, ${trainCpuS.toFixed(1)} s CPU (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores) (target 120 s, ratio ${(120 / trainS).toFixed(2)})`,
);
for (const h of bt.horizons) {
  const v = bt.vsBestBaseline[h.label]!;
  console.log(
    `per-series selection vs the best baseline (${v.baseline}), mean MASE ${h.label}: ${v.selected.toFixed(3)} vs ${v.best.toFixed(3)} (×${(v.selected / v.best).toFixed(3)})`,
  );
}
engine.dispose();
console.log('\n— the origin protocol of `pathpilot forecast backtest` —');
await originProtocolBench(values);
process.exitCode = ok ? 0 : 1;
