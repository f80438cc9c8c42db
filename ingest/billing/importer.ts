import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { CostRecord } from '../../core/records/index.ts';
import { ValidationError } from '../../core/errors.ts';
import { CsvSplitter, type CsvRow } from './csv.ts';
import { createMapper, detectFormat } from './detect.ts';
import { assertUtf8File, ChunkDecoder, resolveEncoding, type BillingEncoding } from './encoding.ts';
import type { BillingFormat, RowMapper } from './formats/common.ts';
import { flattenGcpJson, gcpColumns } from './formats/gcp.ts';
import { LineIdentities } from './identity.ts';
import type { LinkMapper } from './links.ts';
import type { BillingMetrics } from './metrics.ts';

/** A per-column flag: true for the columns a mapper reads. */
export function keepMask(columns: readonly number[], width: number): boolean[] {
  const mask = new Array<boolean>(width).fill(false);
  for (const c of columns) mask[c] = true;
  return mask;
}

export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

export interface ImportProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
  rows: number;
  elapsedMs: number;
}

export interface CostTotal {
  provider: string;
  category: string;
  currency: string;
  cost: number;
  quantity: number;
  rows: number;
}

export interface ImportSummary {
  file: string;
  format: BillingFormat | undefined;
  /** Data rows seen (header excluded). */
  rows: number;
  imported: number;
  /** Bad rows counted; `badRows` keeps the first `maxBadRowsReported`. */
  bad: number;
  badRows: BadRow[];
  /** Lines mapped to a topology link. */
  linked: number;
  totals: CostTotal[];
  bytes: number;
  elapsedMs: number;
  /** Set when the file as a whole could not be imported (unreadable, unknown format). */
  error?: string;
}

/** A summary with nothing imported yet (also what a file that could not be opened reports). */
export function emptySummary(file: string, format: ImportSummary['format'], bytes: number): ImportSummary {
  return { file, format, rows: 0, imported: 0, bad: 0, badRows: [], linked: 0, totals: [], bytes, elapsedMs: 0 };
}

export interface ImportFileOptions {
  format?: BillingFormat | 'auto';
  /** Text encoding: 'auto' (default) reads a BOM, else requires UTF-8; Latin-1 must be declared. */
  encoding?: BillingEncoding;
  /** line_version of lines whose format carries no version of its own (default: now, epoch ms). */
  importedAt?: number;
  /** Receives record batches in file order; awaited, so a slow bus slows the reader (backpressure). */
  onBatch?: (records: CostRecord[]) => Promise<void> | void;
  batchSize?: number;
  linkMapper?: LinkMapper;
  maxBadRowsReported?: number;
  onProgress?: (progress: ImportProgress) => void;
  progressIntervalMs?: number;
  metrics?: BillingMetrics;
  signal?: AbortSignal;
}

/**
 * Streams one billing file (CSV or GCP JSON lines, optionally gzipped) into cost records. The file
 * is never loaded whole: it is read in 1 MiB chunks, rows are mapped as they complete and handed to
 * `onBatch` in batches. A bad row is counted and reported with its line; the rest still imports.
 * Each line's id comes from its identity columns and its occurrence in the file (see identity.ts).
 * Rejects only when the file as a whole is unusable (unreadable, unknown or mismatched format, not
 * valid in its encoding: an uncompressed UTF-8 file is checked before anything is published).
 */
export async function importFile(file: string, options: ImportFileOptions = {}): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 5000;
  const maxBad = options.maxBadRowsReported ?? 1000;
  const interval = options.progressIntervalMs ?? 500;
  const metrics = options.metrics;
  const totalBytes = (await stat(file)).size;
  const importedAt = options.importedAt ?? Date.now();
  const identities = new LineIdentities();
  const summary = emptySummary(file, options.format === 'auto' ? undefined : options.format, totalBytes);
  // provider → category → currency → total (nested maps: no key string built per row).
  const totals = new Map<string, Map<string, Map<string, CostTotal>>>();
  let pending: CostRecord[] = [];
  let mapper: RowMapper | undefined;
  let width = 0;

  const bad = (line: number, reason: string) => {
    summary.bad++;
    metrics?.errors.inc({ error_type: 'bad_row' });
    if (summary.badRows.length < maxBad) summary.badRows.push({ file, line, reason });
  };
  const accept = (fields: readonly string[], line: number) => {
    summary.rows++;
    const result = mapper!.map(fields);
    if (!result.ok) return bad(line, result.reason);
    const r = result.record;
    r.line_id = identities.next(result.identity);
    r.line_version ??= importedAt;
    if (options.linkMapper) {
      const link = options.linkMapper(r);
      if (link) {
        r.link = link;
        summary.linked++;
      }
    }
    let byCategory = totals.get(r.provider);
    if (!byCategory) totals.set(r.provider, (byCategory = new Map()));
    let byCurrency = byCategory.get(r.category);
    if (!byCurrency) byCategory.set(r.category, (byCurrency = new Map()));
    let t = byCurrency.get(r.currency);
    if (!t) {
      t = { provider: r.provider, category: r.category, currency: r.currency, cost: 0, quantity: 0, rows: 0 };
      byCurrency.set(r.currency, t);
    }
    t.cost += r.cost;
    t.quantity += r.usage_quantity;
    t.rows++;
    summary.imported++;
    pending.push(r);
  };
  const onCsvRow = (row: CsvRow) => {
    if (!mapper) {
      const format = summary.format ?? detectFormat(row.fields);
      if (!format) {
        throw new ValidationError(
          `${file}:${row.line}: unrecognized billing export (expected FOCUS, AWS CUR, CUR 2.0, GCP or Azure columns)`,
        );
      }
      try {
        mapper = createMapper(format, row.fields);
      } catch (err) {
        throw new ValidationError(`${file}:${row.line}: ${(err as Error).message}`, { cause: err });
      }
      summary.format = format;
      width = row.fields.length;
      splitter.setKeep(keepMask(mapper.columns, width));
      return;
    }
    if (row.error) {
      summary.rows++;
      return bad(row.line, row.error);
    }
    if (row.fields.length !== width) {
      summary.rows++;
      return bad(row.line, `expected ${width} fields, found ${row.fields.length}`);
    }
    accept(row.fields, row.line);
  };

  let jsonLines: boolean | undefined;
  let jsonRest = '';
  let jsonLine = 0;
  const onJsonText = (text: string, final: boolean) => {
    const data = jsonRest + text;
    let start = 0;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl === -1) break;
      onJsonLine(data.slice(start, nl));
      start = nl + 1;
    }
    jsonRest = data.slice(start);
    if (final && jsonRest.length > 0) {
      onJsonLine(jsonRest);
      jsonRest = '';
    }
  };
  const onJsonLine = (line: string) => {
    jsonLine++;
    const text = line.trim();
    if (text === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      summary.rows++;
      return bad(jsonLine, `invalid JSON (${(err as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      summary.rows++;
      return bad(jsonLine, 'a line must hold one JSON object');
    }
    accept(flattenGcpJson(obj as Record<string, unknown>), jsonLine);
  };

  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let input: Readable = raw;
  if (file.endsWith('.gz')) {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    input = raw.pipe(gunzip);
  }
  let decoder: ChunkDecoder | undefined;
  let head: Buffer | undefined; // the first bytes, until there are enough to read a byte-order mark
  const decode = async (chunk: Buffer, final: boolean): Promise<string | undefined> => {
    if (!decoder) {
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 3 && !final) return undefined;
      const encoding = resolveEncoding(file, options.encoding ?? 'auto', head);
      if (encoding === 'utf8' && !file.endsWith('.gz')) await assertUtf8File(file);
      decoder = new ChunkDecoder(file, encoding);
      chunk = head;
      head = undefined;
    }
    return decoder.decode(chunk, final);
  };
  const splitter = new CsvSplitter();
  let lastProgress = started;
  let lastBytes = 0;
  const progress = () => {
    options.onProgress?.({
      file,
      bytesRead: raw.bytesRead,
      totalBytes,
      rows: summary.rows,
      elapsedMs: performance.now() - started,
    });
  };
  const flush = async (all: boolean) => {
    while (pending.length >= batchSize || (all && pending.length > 0)) {
      const batch = pending.length > batchSize ? pending.slice(0, batchSize) : pending;
      pending = pending.length > batchSize ? pending.slice(batchSize) : [];
      await options.onBatch?.(batch);
      metrics?.sent.inc(batch.length);
    }
  };

  try {
    /** Hands decoded text to the JSON-lines or CSV reader (chosen by the first character). */
    const onText = (text: string) => {
      if (jsonLines === undefined) {
        const firstChar = text.trimStart().charAt(0);
        jsonLines = firstChar === '{' || (firstChar === '' && /\.jsonl?(\.gz)?$/.test(file));
        if (jsonLines) {
          if (summary.format && summary.format !== 'gcp') {
            throw new ValidationError(`${file}: JSON lines are only read as a GCP billing export, not ${summary.format}`);
          }
          summary.format = 'gcp';
          mapper = createMapper('gcp', gcpColumns);
        }
      }
      if (jsonLines) onJsonText(text, false);
      else splitter.push(text, onCsvRow);
    };
    for await (const chunk of input) {
      options.signal?.throwIfAborted();
      const text = await decode(chunk as Buffer, false);
      if (text === undefined) continue;
      const before = summary.rows;
      onText(text);
      metrics?.received.inc(summary.rows - before);
      metrics?.bytes.inc(raw.bytesRead - lastBytes);
      lastBytes = raw.bytesRead;
      await flush(false);
      if (options.onProgress && performance.now() - lastProgress >= interval) {
        lastProgress = performance.now();
        progress();
      }
    }
    const before = summary.rows;
    const last = await decode(Buffer.alloc(0), true);
    if (last) onText(last);
    if (jsonLines) onJsonText('', true);
    else splitter.end(onCsvRow);
    metrics?.received.inc(summary.rows - before);
    await flush(true);
  } finally {
    raw.destroy();
  }
  if (!summary.format) throw new ValidationError(`${file}: empty file (no header row)`);
  metrics?.files.inc({ format: summary.format });
  summary.totals = [...totals.values()]
    .flatMap((c) => [...c.values()].flatMap((m) => [...m.values()]))
    .sort(
      (a, b) =>
        a.provider.localeCompare(b.provider) || a.category.localeCompare(b.category) || a.currency.localeCompare(b.currency),
    );
  summary.elapsedMs = performance.now() - started;
  progress();
  return summary;
}
