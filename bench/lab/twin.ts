/**
 * bench:twin — a simulated week of the default topology (steady scenario, 1-minute ticks) with every
 * output on: probe and iface records to counting sinks, sampled IPFIX over UDP from each site's
 * 127.0.1.x exporter address to a loopback collector socket, daily FOCUS files to a temp folder.
 * Target (issue 5): a simulated week in ≤ 2 minutes, i.e. ≥ 0.0583 simulated days per wall second.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig, exampleConfigPath } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import { createTwin } from '../../lab/twin/index.ts';

const DAYS = Number(process.env.TWIN_BENCH_DAYS ?? 7);
const TARGET_DAYS_PER_S = 7 / 120;
const WALL_LIMIT_MS = 10 * 60_000;

const root = loadConfig(exampleConfigPath, {}).root;
const collector = createSocket('udp4');
let datagrams = 0;
let udpBytes = 0;
collector.on('message', (m) => {
  datagrams++;
  udpBytes += m.length;
});
await new Promise<void>((r) => collector.bind(0, '127.0.0.1', () => r()));
const port = collector.address().port;
const dir = mkdtempSync(join(tmpdir(), 'bench-twin-'));
let probes = 0;
let ifaces = 0;
let files = 0;
const clock = new SimulatedClock(Date.UTC(2026, 0, 5));
const twin = createTwin(
  {
    clock,
    config: root,
    log: createLogger({ level: 'warn' }),
    sinks: {
      onProbe: (r) => void (probes += r.length),
      onIface: (r) => void (ifaces += r.length),
      onBillingFile: () => void files++,
    },
  },
  { scenario: 'steady', flow: { collector: `127.0.0.1:${port}` }, billing: { dir } },
);
await twin.start(); // follow mode: the loop sleeps on the simulated clock; runFor drives it below
const t0 = performance.now();
const tickMs = twin.config.tick_s * 1000;
for (let day = 0; day < DAYS && performance.now() - t0 < WALL_LIMIT_MS; day++) {
  // Drive the clock: the twin's own loop ticks at each tick boundary.
  for (let t = 0; t < 86_400_000 / tickMs; t++) await clock.advance(tickMs);
}
const wall = (performance.now() - t0) / 1000;
await twin.stop();
await new Promise((r) => setTimeout(r, 200));
collector.close();
const s = twin.state();
const simDays = (s.time - Date.UTC(2026, 0, 5)) / 86_400_000;
const rate = simDays / wall;
console.log(
  `twin: ${simDays.toFixed(2)} simulated days in ${wall.toFixed(1)} s wall = ${rate.toFixed(3)} simulated days/s ` +
    `(target ${TARGET_DAYS_PER_S.toFixed(4)}, ratio ${(rate / TARGET_DAYS_PER_S).toFixed(2)}); ` +
    `week in ${((7 / rate) | 0).toString()} s (target 120 s)`,
);
console.log(
  `  emitted: ${probes} probe records, ${ifaces} iface records, ${datagrams} IPFIX datagrams received ` +
    `(${(udpBytes / 1e6).toFixed(1)} MB), ${files} FOCUS files; egress $${s.egress.cost_total.toFixed(0)}, ${s.egress.gb_total.toFixed(0)} GB`,
);
rmSync(dir, { recursive: true, force: true });
