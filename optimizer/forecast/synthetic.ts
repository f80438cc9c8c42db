import { rng } from '../te/synthetic.ts';
import { dayMs, weekMs } from './baselines.ts';

export interface SyntheticSeries {
  key: string;
  startMs: number;
  stepMs: number;
  values: number[];
}

/**
 * Realistic WAN traffic for tests and benches until the lab twin's generator is used: a business-hours
 * daily profile shifted by the site's timezone, weekends at 40–70%, slow growth, AR(1) noise and rare
 * bursts. Deterministic per seed.
 */
export function syntheticTraffic(
  count: number,
  options: { days?: number; stepMs?: number; seed?: number; startMs?: number } = {},
): SyntheticSeries[] {
  const stepMs = options.stepMs ?? 300_000;
  const days = options.days ?? 21;
  const startMs = options.startMs ?? Date.UTC(2026, 9, 5);
  const n = Math.round((days * dayMs) / stepMs);
  const rand = rng(options.seed ?? 1);
  const out: SyntheticSeries[] = [];
  for (let s = 0; s < count; s++) {
    const base = 50 + rand() * 2000;
    const tz = Math.floor(rand() * 24) - 12;
    const weekend = 0.4 + rand() * 0.3;
    const growth = (rand() - 0.3) * 0.02; // per week
    const noise = 0.04 + rand() * 0.08;
    const phi = 0.6 + rand() * 0.3;
    let ar = 0;
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = startMs + i * stepMs;
      const localHour = (((t / 3_600_000 + tz) % 24) + 24) % 24;
      const dow = Math.floor(((t + tz * 3_600_000 + 4 * dayMs) % weekMs) / dayMs);
      const business = Math.exp(-((localHour - 14) ** 2) / 18) * 0.9 + Math.exp(-((localHour - 20) ** 2) / 8) * 0.25;
      const profile = 0.25 + business * (dow === 0 || dow === 6 ? weekend : 1);
      ar = phi * ar + (rand() - 0.5) * 2 * noise;
      const burst = rand() < 0.002 ? 0.5 * rand() : 0;
      const trend = 1 + (growth * i * stepMs) / weekMs;
      values.push(Math.max(0, base * profile * trend * (1 + ar + burst)));
    }
    out.push({ key: `series-${s}`, startMs, stepMs, values });
  }
  return out;
}
