import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { ValidationError } from '../../core/errors.ts';
import type { BacktestSeries } from './backtest.ts';

/**
 * Reads a `time,series,value` CSV — or a traffic matrix `time,src,dst,mbps` (series `src>dst`) — (header
 * required; time as ISO 8601, `YYYY-MM-DD HH:MM:SS` taken as UTC, or epoch seconds/milliseconds) into
 * regular series (a `.gz` file is decompressed). The step is the most common gap of each series; missing steps stay missing (NaN) and
 * are counted. A bad row stops the read with its file and line: nothing is guessed.
 */
export async function readSeriesCsv(file: string): Promise<{ series: BacktestSeries[]; missing: number; rows: number }> {
  const points = new Map<string, Map<number, number>>();
  let rows = 0;
  const raw = createReadStream(file);
  // A `.gz` file is read as it is shipped (traffic-matrix exports are large).
  const parser = (file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw).pipe(
    parse({ columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true }),
  );
  try {
    for await (const rec of parser as AsyncIterable<Record<string, string>>) {
      rows++;
      const line = rows + 1;
      if (rec.series === undefined && rec.src !== undefined && rec.dst !== undefined && rec.mbps !== undefined) {
        rec.series = `${rec.src}>${rec.dst}`;
        rec.value = rec.mbps;
      }
      if (rec.time === undefined || rec.series === undefined || rec.value === undefined)
        throw new ValidationError(`${file}:${line}: expected columns time,series,value (or time,src,dst,mbps)`);
      const t = parseTime(rec.time);
      if (t === undefined)
        throw new ValidationError(`${file}:${line}: time "${rec.time}" is neither ISO 8601 nor epoch seconds/ms`);
      const v = Number(rec.value);
      if (rec.value === '' || !Number.isFinite(v))
        throw new ValidationError(`${file}:${line}: value "${rec.value}" is not a number`);
      if (!rec.series) throw new ValidationError(`${file}:${line}: empty series name`);
      let m = points.get(rec.series);
      if (!m) points.set(rec.series, (m = new Map()));
      m.set(t, (m.get(t) ?? 0) + v);
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  if (points.size === 0) throw new ValidationError(`${file}: no rows`);
  let missing = 0;
  const series: BacktestSeries[] = [];
  for (const [key, m] of points) {
    const times = [...m.keys()].sort((a, b) => a - b);
    const gaps = new Map<number, number>();
    for (let i = 1; i < times.length; i++) gaps.set(times[i]! - times[i - 1]!, (gaps.get(times[i]! - times[i - 1]!) ?? 0) + 1);
    const step = [...gaps].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (!step) throw new ValidationError(`${file}: series "${key}" has a single point`);
    const values: number[] = [];
    for (let t = times[0]!; t <= times[times.length - 1]!; t += step) {
      const v = m.get(t);
      if (v === undefined) missing++;
      values.push(v ?? NaN);
    }
    series.push({ key, values, ctx: { stepMs: step, startMs: times[0]! } });
  }
  return { series, missing, rows };
}

function parseTime(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  // `2005-05-04 15:30:00` (no zone) is UTC, as traffic-matrix exports write it.
  const t = Date.parse(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isFinite(t) ? t : undefined;
}
