/**
 * bench:te — the TE LP on synthetic full-mesh WANs: 100 sites × 3 paths × 3 classes within 2 s and
 * 300 sites within 20 s, solved to optimality by HiGHS (wasm). Prints model size, build and solve time and
 * the ratio to each target. `npm run bench:te [-- --sizes 100,300]`.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { syntheticTe } from '../../optimizer/te/synthetic.ts';
import { solveTe, demandKey } from '../../optimizer/te/solve.ts';
import { highs } from '../../optimizer/te/highs.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,300' }, solver: { type: 'string' } } });
const targets: Record<number, number> = { 100: 2, 300: 20 };
const score = { rtt: 1, loss: 100, jitter: 0.5, bandwidth: 0, challenger_factor: 1.5 };
// The wasm runtime loads once per process (the optimizer keeps it); load it before timing.
const tl = performance.now();
await highs();
console.log(`HiGHS wasm runtime loaded in ${(performance.now() - tl).toFixed(0)} ms (once per process, not counted below)`);
let failed = false;
for (const n of values.sizes.split(',').map(Number)) {
  const syn = syntheticTe(n);
  // Current split: everything on the primary path, so the churn terms are in the model too.
  const current = new Map<string, Record<string, number>>();
  for (const d of syn.demands) current.set(demandKey(d.from, d.to, d.class), { [`${d.from}.${d.to}.1`]: 1 });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await solveTe({
    ...syn,
    current,
    options: {
      policy: { max_utilization: 0.8, churn_penalty: 0.05, score },
      latency_penalty: 0.05,
      time_limit_s: 120,
      solver: values.solver,
    },
  });
  const total = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const target = targets[n] ?? 20;
  const ratio = target / total;
  for (const b of r.binding.slice(0, 3)) console.log(`  binding: ${b.message}`);
  if (total > target || r.status !== 'optimal') failed = true;
  console.log(
    `te ${n} sites: ${r.status} in ${total.toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; build ${(r.stats.build_ms / 1000).toFixed(2)} s, solve ${(r.stats.solve_ms / 1000).toFixed(2)} s; ` +
      `${r.stats.variables.toLocaleString()} variables, ${r.stats.constraints.toLocaleString()} rows, ${r.stats.nonzeros.toLocaleString()} nonzeros; ` +
      `${syn.demands.length.toLocaleString()} demands, max utilization ${(r.max_utilization * 100).toFixed(1)}%, ${r.binding.length} binding, churn ${(r.churn * 100).toFixed(1)}%) ` +
      `(target ${target} s, ratio ${ratio.toFixed(2)})`,
  );
}
process.exitCode = failed ? 1 : 0;
