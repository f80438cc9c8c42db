/**
 * Derives lab/twin/data/regions.json from the Skyplane measurement tables in ../shared/data/cloud
 * (see SOURCES.md). Run once when the source tables change:
 *
 *   npx tsx lab/twin/data/derive.ts ../shared/data/cloud
 *
 * RTT: PREMIUM→PREMIUM tier rows only, averaged over both directions (ping avg and mdev, ms).
 * Price: USD per GB, src → dst, PREMIUM tier (the table has no other).
 * GCP zones are folded into their region (`gcp:us-central1-a` → `gcp:us-central1`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = process.argv[2] ?? join(here, '..', '..', '..', '..', 'shared', 'data', 'cloud');

const region = (r: string) => (r.startsWith('gcp:') ? r.replace(/-[a-z]$/, '') : r);
const read = (file: string) =>
  parse(readFileSync(join(srcDir, file), 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];

const rtt = new Map<string, { avg: number[]; mdev: number[] }>();
for (const row of read('skyplane_intercloud_latency_2022-04.csv')) {
  if (row.src_tier !== 'PREMIUM' || row.dst_tier !== 'PREMIUM') continue;
  const a = region(row.src_region!);
  const b = region(row.dst_region!);
  const avg = Number(row.avg_rtt);
  if (!Number.isFinite(avg) || avg <= 0) continue;
  const key = a < b ? `${a}|${b}` : `${b}|${a}`;
  const e = rtt.get(key) ?? { avg: [], mdev: [] };
  e.avg.push(avg);
  const mdev = Number(row.mdev_rtt);
  if (row.mdev_rtt !== '' && Number.isFinite(mdev)) e.mdev.push(mdev);
  rtt.set(key, e);
}

const price: Record<string, number> = {};
for (const row of read('skyplane_intercloud_egress_cost_2022-05.csv')) {
  const c = Number(row.cost);
  if (!Number.isFinite(c)) continue;
  price[`${region(row.src!)}|${region(row.dest!)}`] = c;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const regions = [...new Set([...rtt.keys()].flatMap((k) => k.split('|')))].sort();
const index = new Map(regions.map((r, i) => [r, i]));
const matrix = () => regions.map(() => regions.map((): number | null => null));
const rttAvg = matrix();
const rttMdev = matrix();
for (const [k, e] of rtt) {
  const [a, b] = k.split('|').map((r) => index.get(r)!);
  rttAvg[a!]![b!] = rttAvg[b!]![a!] = round(mean(e.avg), 1);
  rttMdev[a!]![b!] = rttMdev[b!]![a!] = round(e.mdev.length ? mean(e.mdev) : 0.3, 2);
}
const egress = matrix();
for (const [k, c] of Object.entries(price)) {
  const [a, b] = k.split('|').map((r) => index.get(r));
  if (a !== undefined && b !== undefined) egress[a]![b] = c;
}

const out = {
  note: 'Derived by lab/twin/data/derive.ts from Skyplane profiles (Apache-2.0); see SOURCES.md. Matrices are indexed by regions; null = not measured',
  regions,
  /** [i][j]: mean ping RTT in ms between regions i and j (both directions averaged). */
  rtt_avg_ms: rttAvg,
  /** [i][j]: mean ping mdev in ms. */
  rtt_mdev_ms: rttMdev,
  /** [i][j]: USD per GB sent from region i to region j. */
  egress_usd_per_gb: egress,
};
writeFileSync(join(here, 'regions.json'), JSON.stringify(out) + '\n');
console.log(`regions: ${regions.length}, rtt pairs: ${rtt.size}, prices: ${Object.keys(price).length}`);
