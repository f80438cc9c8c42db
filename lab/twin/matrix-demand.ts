/**
 * Measured demand for the twin: a traffic-matrix CSV (`time,src,dst,mbps`, plain or gzip; time as ISO
 * 8601 — UTC when it names no zone — or epoch seconds/ms), one row per node pair and interval. The twin
 * replays it shifted so the first interval starts at the run's start: at simulated time t a pair offers
 * the value of the interval containing t. Pairs absent from an interval offer nothing (the GÉANT and
 * SNDlib matrices leave zero demands out); a gap between intervals holds the previous one (a missing
 * measurement is not silence); past the last interval the matrix repeats, by whole days when it spans
 * at least one so the daily cycle stays in phase.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { ValidationError } from '../../core/errors.ts';

export interface DemandMatrix {
  file: string;
  /** Interval starts (epoch ms, ascending, distinct). */
  times: number[];
  /** Length of one interval: the most common gap between starts (one hour for a single interval). */
  stepMs: number;
  /** Mbps per "src>dst" (names as in the file) and interval; rows repeating a pair and time are summed. */
  series: Map<string, Float64Array>;
  /** The first file line of each pair, for errors that point at the file. */
  lineOf: Map<string, number>;
  rows: number;
}

const DAY_MS = 86_400_000;

/** ISO 8601 (no zone = UTC, "YYYY-MM-DD HH:MM[:SS]" too) or epoch seconds / milliseconds. */
export function parseMatrixTime(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  // Date.parse reads a zone-less date-time as local time; matrices are UTC.
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/.exec(s);
  const t = Date.parse(m ? `${m[1]}T${m[2]}Z` : s);
  return Number.isFinite(t) ? t : undefined;
}

/** Parses matrix CSV text; a bad row is a ValidationError naming the file and line. */
export function parseDemandMatrix(text: string, file = '<matrix>'): DemandMatrix {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
    }) as unknown as typeof records;
  } catch (err) {
    throw new ValidationError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const header = records[0]?.record.map((c) => c.toLowerCase());
  const col = (name: string) => header?.indexOf(name) ?? -1;
  const [ti, si, di, mi] = [col('time'), col('src'), col('dst'), col('mbps')];
  if (ti < 0 || si < 0 || di < 0 || mi < 0)
    throw new ValidationError(`${file}:1: expected a header with columns time,src,dst,mbps`);

  const rows: { t: number; pair: string; mbps: number }[] = [];
  const lineOf = new Map<string, number>();
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r]!;
    const at = `${file}:${info.lines}`;
    if (record.length !== header!.length)
      throw new ValidationError(`${at}: expected ${header!.length} columns, got ${record.length}`);
    const [time, src, dst, value] = [record[ti]!, record[si]!, record[di]!, record[mi]!];
    const t = parseMatrixTime(time);
    if (t === undefined) throw new ValidationError(`${at}: time "${time}" is neither ISO 8601 nor epoch seconds/ms`);
    if (!src || !dst) throw new ValidationError(`${at}: empty src or dst`);
    if (src === dst) throw new ValidationError(`${at}: src and dst are both "${src}"`);
    const mbps = Number(value);
    if (value === '' || !Number.isFinite(mbps) || mbps < 0)
      throw new ValidationError(`${at}: mbps "${value}" is not a non-negative number`);
    const pair = `${src}>${dst}`;
    if (!lineOf.has(pair)) lineOf.set(pair, info.lines);
    rows.push({ t, pair, mbps });
  }
  if (rows.length === 0) throw new ValidationError(`${file}: no rows after the header`);

  const times = [...new Set(rows.map((r) => r.t))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const gaps = new Map<number, number>();
  for (let i = 1; i < times.length; i++) gaps.set(times[i]! - times[i - 1]!, (gaps.get(times[i]! - times[i - 1]!) ?? 0) + 1);
  const stepMs = [...gaps].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 3_600_000;
  const series = new Map<string, Float64Array>();
  for (const r of rows) {
    let s = series.get(r.pair);
    if (!s) series.set(r.pair, (s = new Float64Array(times.length)));
    s[index.get(r.t)!]! += r.mbps;
  }
  return { file, times, stepMs, series, lineOf, rows: rows.length };
}

const cache = new Map<string, { key: string; matrix: DemandMatrix }>();

/**
 * Reads a matrix file (gzip recognised by its magic bytes). Parsed once per file version per process:
 * a what-if runs the same matrix through several twins.
 */
export function readDemandMatrix(file: string): DemandMatrix {
  let key: string;
  try {
    const st = statSync(file);
    key = `${st.size}|${st.mtimeMs}`;
  } catch (err) {
    throw new ValidationError(`${file}: cannot read the demand matrix (${(err as Error).message})`);
  }
  const hit = cache.get(file);
  if (hit?.key === key) return hit.matrix;
  const raw = readFileSync(file);
  let text: string;
  try {
    text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    throw new ValidationError(`${file}: not a readable gzip file (${(err as Error).message})`);
  }
  const matrix = parseDemandMatrix(text, file);
  cache.set(file, { key, matrix });
  return matrix;
}

/** The matrix bound to the twin's sites and run start: Mbps per ordered site pair at simulated time t. */
export class MatrixDemand {
  private readonly bySitePair = new Map<string, Float64Array>();
  /** Time covered by the file: first interval start to the end of the last interval. */
  readonly spanMs: number;
  private readonly periodMs: number;
  private lastT = NaN;
  private lastIdx = 0;

  /**
   * `siteOf` maps a file name (site id or site name) to a site id, undefined when unknown; `hasPath`
   * says whether the twin can carry a pair. Both failures name the file line of the pair's first row.
   */
  constructor(
    readonly matrix: DemandMatrix,
    private readonly startMs: number,
    siteOf: (name: string) => string | undefined,
    hasPath: (from: string, to: string) => boolean,
  ) {
    for (const [pair, values] of matrix.series) {
      const [src, dst] = pair.split('>') as [string, string];
      const at = `${matrix.file}:${matrix.lineOf.get(pair)}`;
      const from = siteOf(src);
      const to = siteOf(dst);
      for (const [name, site] of [
        [src, from],
        [dst, to],
      ] as const)
        if (site === undefined)
          throw new ValidationError(`${at}: unknown node "${name}" (not a site id or name of the topology)`);
      if (!hasPath(from!, to!)) throw new ValidationError(`${at}: no candidate path joins "${src}" to "${dst}"`);
      const key = `${from}>${to}`;
      const prev = this.bySitePair.get(key);
      if (prev) for (let i = 0; i < values.length; i++) prev[i]! += values[i]!;
      else this.bySitePair.set(key, Float64Array.from(values));
    }
    this.spanMs = matrix.times[matrix.times.length - 1]! + matrix.stepMs - matrix.times[0]!;
    this.periodMs = this.spanMs >= DAY_MS ? Math.floor(this.spanMs / DAY_MS) * DAY_MS : this.spanMs;
  }

  /** Index of the interval whose values apply at simulated time t. */
  intervalAt(t: number): number {
    if (t === this.lastT) return this.lastIdx;
    const times = this.matrix.times;
    let offset = t - this.startMs;
    if (offset < 0) offset = 0;
    if (offset >= this.spanMs) offset %= this.periodMs;
    const target = times[0]! + offset;
    // Last start ≤ target (binary search).
    let lo = 0;
    let hi = times.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid]! <= target) lo = mid;
      else hi = mid - 1;
    }
    this.lastT = t;
    this.lastIdx = lo;
    return lo;
  }

  /** Mbps from site `from` to site `to` at simulated time t (0 for pairs the file never names). */
  mbps(pair: string, t: number): number {
    const s = this.bySitePair.get(pair);
    return s ? s[this.intervalAt(t)]! : 0;
  }

  /** Ordered site pairs the file gives demand for. */
  pairs(): string[] {
    return [...this.bySitePair.keys()];
  }
}
