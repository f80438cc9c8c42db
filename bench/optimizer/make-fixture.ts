/**
 * Regenerates test/fixtures/optimizer/lab-traffic.csv (time,series,value) from the lab twin: one link
 * direction and two pair × class demands, 7 days at 15 minutes. `npx tsx bench/optimizer/make-fixture.ts`.
 */
import { writeFileSync } from 'node:fs';
import { labData } from '../../lab/twin/lab-data.ts';

const lab = labData({ days: 7, stepMs: 900_000 });
const pick = [
  ...lab.data.links
    .filter((l) => l.link === 'fra-euc1-dx' && l.from_site === 'onprem-fra')
    .map((l) => ({ key: `link:${l.link}:${l.from_site}`, s: l })),
  ...lab.data.pairs
    .filter((p) => p.from === 'onprem-nyc' && p.to === 'aws-use1' && p.class !== 'realtime')
    .map((p) => ({ key: `pair:${p.from}>${p.to}|${p.class}`, s: p })),
];
const lines = ['time,series,value'];
for (const { key, s } of pick)
  s.values.forEach((v, i) => lines.push(`${new Date(s.startMs + i * s.stepMs).toISOString()},${key},${v.toFixed(3)}`));
writeFileSync('test/fixtures/optimizer/lab-traffic.csv', `${lines.join('\n')}\n`);
console.log(`wrote ${lines.length - 1} rows for ${pick.length} series`);
