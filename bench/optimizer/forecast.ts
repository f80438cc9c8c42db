/**
 * bench:forecast — rolling-origin backtest on the lab topology's traffic (links × direction and pairs ×
 * class): training time for every model (target ≤ 120 s) and the share of series where the selected model
 * beats seasonal naive on MASE at 1 h and 1 d (target ≥ 75%). Prints the per-series table.
 */
import { parseArgs } from 'node:util';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { backtest } from '../../optimizer/forecast/backtest.ts';
import { syntheticTraffic } from '../../optimizer/forecast/synthetic.ts';

const { values } = parseArgs({
  options: { days: { type: 'string', default: '21' }, table: { type: 'boolean', default: false } },
});
const { root } = loadConfig();
const topo = new Topology(root);
const count = root.links.length * 2 + topo.pairs().length * root.classes.length;
const series = syntheticTraffic(count, { days: Number(values.days), seed: 11 }).map((s) => ({
  key: s.key,
  values: s.values,
  ctx: { stepMs: s.stepMs, startMs: s.startMs },
}));
const t0 = performance.now();
const r = await backtest(series, { origins: 8, originEveryMs: 6 * 3_600_000 });
const total = (performance.now() - t0) / 1000;
if (values.table) {
  console.log(`series        selected         ${r.horizons.map((h) => `MASE ${h.label} sel/naive`.padEnd(22)).join(' ')}`);
  for (const s of r.series)
    console.log(
      `${s.key.padEnd(13)} ${s.selected.padEnd(16)} ${r.horizons
        .map((h) =>
          `${s.test[s.selected]![h.label]!.mase.toFixed(3)} / ${s.test['seasonal-naive']![h.label]!.mase.toFixed(3)}`.padEnd(22),
        )
        .join(' ')}`,
    );
}
const selectedCounts: Record<string, number> = {};
for (const s of r.series) selectedCounts[s.selected] = (selectedCounts[s.selected] ?? 0) + 1;
console.log(
  `series: ${r.series.length} (lab topology: ${root.links.length} links × 2 directions + ${topo.pairs().length} pairs × ${root.classes.length} classes), selected: ${JSON.stringify(selectedCounts)}`,
);
console.log(
  `training (every model, all series): ${(r.trainMs / 1000).toFixed(1)} s (target 120 s, ratio ${(120_000 / r.trainMs).toFixed(2)}); backtest total ${total.toFixed(1)} s`,
);
let ok = r.trainMs <= 120_000;
for (const h of r.horizons) {
  const share = r.beatsNaive[h.label]!;
  if (share < 0.75) ok = false;
  console.log(
    `selected beats seasonal naive (MASE, ${h.label}): ${(share * 100).toFixed(1)}% of series (target 75%, ratio ${(share / 0.75).toFixed(2)})`,
  );
}
process.exitCode = ok ? 0 : 1;
