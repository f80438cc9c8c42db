import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import type { BusMessage } from '../../core/bus/types.ts';
import type { RootConfig } from '../../core/config/index.ts';
import { ValidationError } from '../../core/errors.ts';
import { costRecord, decodeRecords, encodeRecords, schemaHeader, schemaId, type CostRecord } from '../../core/records/index.ts';
import type { LinkRule } from './config.ts';
import { CsvSplitter, maxRowChars } from './csv.ts';
import { createMapper, detectFormat } from './detect.ts';
import { assertUtf8File, sniffBom } from './encoding.ts';
import type { BillingFormat } from './formats/common.ts';
import { LineIdentities } from './identity.ts';
import { emptySummary, type CostTotal, type ImportProgress, type ImportSummary } from './importer.ts';
import type { BillingMetrics } from './metrics.ts';
import { decodeSegment, toBusMessages, type SegmentResult, type SegmentSetup } from './segment.ts';

export interface ParallelImportOptions {
  workers: number;
  format?: BillingFormat | 'auto';
  /** The file's encoding, resolved by the caller: only byte encodings cut at LF bytes. */
  encoding: 'utf8' | 'latin1';
  /** line_version of lines without a version of their own (default: now). */
  importedAt?: number;
  /** Receives encoded cost messages in file order; awaited (backpressure). */
  onMessages: (messages: BusMessage[], records: number) => Promise<void>;
  topology?: RootConfig;
  linkRules: LinkRule[];
  mapLinks: boolean;
  recordsPerMessage: number;
  maxBadRowsReported: number;
  onProgress?: (progress: ImportProgress) => void;
  progressIntervalMs?: number;
  metrics?: BillingMetrics;
  signal?: AbortSignal;
}

const QUOTE = 34;
const LF = 10;

/**
 * Finds where the complete rows of `buf` end (after the last LF outside quotes), and counts its
 * LFs up to there. `buf` starts at a row boundary.
 */
export function cutRows(buf: Uint8Array): { end: number; lines: number } {
  let inQuotes = false;
  let end = 0;
  let lines = 0;
  let linesAtEnd = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (c === LF) {
      lines++;
      if (!inQuotes) {
        end = i + 1;
        linesAtEnd = lines;
      }
    }
  }
  return { end, lines: linesAtEnd };
}

const workerUrl = new URL('./worker-entry.mjs', import.meta.url);

/**
 * Gives a segment's lines their file-wide ids: workers number lines of one identity within their
 * segment, so a line whose identity also occurred in earlier segments is renumbered here (its
 * message decoded and re-encoded; rare, as such lines are usually near each other).
 */
export function renumberSegment(result: SegmentResult, identities: LineIdentities): void {
  const before = new Map<string, number>();
  for (const message of result.messages) {
    let fixed: Map<number, string> | undefined;
    message.digests.forEach((digest, i) => {
      let base = before.get(digest);
      if (base === undefined) before.set(digest, (base = identities.countOf(digest)));
      const id = identities.nextOf(digest);
      if (base > 0) (fixed ??= new Map()).set(i, id);
    });
    if (!fixed) continue;
    const value = message.value;
    const records = decodeRecords(Buffer.from(value.buffer, value.byteOffset, value.byteLength)) as CostRecord[];
    for (const [i, id] of fixed) records[i]!.line_id = id;
    message.value = new Uint8Array(encodeRecords(records));
  }
}

/**
 * The importer on several threads, for large CSV exports: this thread reads bytes and cuts them at
 * row boundaries (quote-aware), worker threads decode, map, hash and encode each segment, and the
 * encoded messages are handed on in file order. Same records, ids, totals and bad-row lines as the
 * single-threaded path; JSON lines stay single-threaded.
 */
export async function importFileParallel(file: string, options: ParallelImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const totalBytes = (await stat(file)).size;
  const metrics = options.metrics;
  const summary = emptySummary(file, options.format === 'auto' ? undefined : options.format, totalBytes);
  const totals = new Map<string, CostTotal>();
  const identities = new LineIdentities();
  const importedAt = options.importedAt ?? Date.now();
  const headers = { [schemaHeader]: schemaId(costRecord) };
  // Nothing is published from a file that is not UTF-8 (gzip is checked while it streams).
  if (options.encoding === 'utf8' && !file.endsWith('.gz')) await assertUtf8File(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let input: Readable = raw;
  if (file.endsWith('.gz')) {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    input = raw.pipe(gunzip);
  }

  const workers: Worker[] = [];
  const waiting = new Map<number, { resolve: (r: SegmentResult) => void; reject: (e: Error) => void }>();
  const results = new Map<number, Promise<SegmentResult>>();
  let nextSeq = 0;
  let nextToPublish = 0;
  let nextLine = 1;
  let carry: Buffer = Buffer.alloc(0);
  let header: string[] | undefined;
  let lastProgress = started;
  let failure: Error | undefined;

  const merge = async (r: SegmentResult) => {
    renumberSegment(r, identities);
    summary.rows += r.rows;
    summary.imported += r.imported;
    summary.linked += r.linked;
    summary.bad += r.bad;
    for (const b of r.badRows) if (summary.badRows.length < options.maxBadRowsReported) summary.badRows.push(b);
    for (const t of r.totals) {
      const key = `${t.provider}\x1f${t.category}\x1f${t.currency}`;
      const sum = totals.get(key);
      if (!sum) totals.set(key, { ...t });
      else {
        sum.cost += t.cost;
        sum.quantity += t.quantity;
        sum.rows += t.rows;
      }
    }
    metrics?.received.inc(r.rows);
    if (r.bad > 0) metrics?.errors.inc({ error_type: 'bad_row' }, r.bad);
    if (r.messages.length > 0) await options.onMessages(toBusMessages(r.messages, headers), r.imported);
    metrics?.sent.inc(r.imported);
  };
  const publishReady = async (all: boolean) => {
    // Keep at most two segments per worker in flight; hand results on in order.
    while (results.has(nextToPublish) && (all || nextSeq - nextToPublish >= workers.length * 2)) {
      const r = await results.get(nextToPublish)!;
      results.delete(nextToPublish);
      nextToPublish++;
      await merge(r);
    }
  };
  const dispatch = (data: Buffer, final: boolean) => {
    const seq = nextSeq++;
    const worker = workers[seq % workers.length]!;
    const copy = new Uint8Array(data); // own ArrayBuffer, transferred to the worker
    results.set(seq, new Promise<SegmentResult>((resolve, reject) => waiting.set(seq, { resolve, reject })));
    // Unhandled until awaited in order; keep the rejection from being reported early.
    results.get(seq)!.catch(() => {});
    worker.postMessage({ seq, data: copy, firstLine: nextLine, final }, [copy.buffer]);
  };
  const startWorkers = (setup: SegmentSetup) => {
    for (let i = 0; i < options.workers; i++) {
      const w = new Worker(workerUrl, { workerData: setup, execArgv: [] });
      w.on('message', (m: { ok: true; result: SegmentResult } | { ok: false; seq: number; error: string }) => {
        const seq = m.ok ? m.result.seq : m.seq;
        const p = waiting.get(seq);
        waiting.delete(seq);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(m.error));
      });
      w.on('error', (err) => {
        failure = err;
        for (const p of waiting.values()) p.reject(err);
        waiting.clear();
      });
      workers.push(w);
    }
  };

  try {
    for await (const chunk of input) {
      options.signal?.throwIfAborted();
      if (failure) throw failure;
      carry = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      if (!header) {
        if (carry.length < 3) continue;
        const bom = sniffBom(carry);
        if (bom?.encoding === 'utf8' && options.encoding === 'utf8') carry = carry.subarray(bom.length);
        const cut = cutRows(carry.subarray(0, Math.min(carry.length, 1 << 20)));
        if (cut.end === 0) continue;
        const text = decodeSegment({ file, encoding: options.encoding }, carry.subarray(0, cut.end), 1);
        const splitter = new CsvSplitter();
        splitter.push(text.replace(/\n[\s\S]*$/, '\n'), (row) => (header ??= row.fields));
        if (!header) continue;
        const headerRow: string[] = header;
        const format = summary.format ?? detectFormat(headerRow);
        if (!format)
          throw new ValidationError(
            `${file}:1: unrecognized billing export (expected FOCUS, AWS CUR, CUR 2.0, GCP or Azure columns)`,
          );
        try {
          createMapper(format, headerRow);
        } catch (err) {
          throw new ValidationError(`${file}:1: ${(err as Error).message}`, { cause: err });
        }
        summary.format = format;
        const headerEnd = carry.indexOf(LF) + 1;
        nextLine = 1 + cutRows(carry.subarray(0, headerEnd)).lines;
        carry = carry.subarray(headerEnd);
        startWorkers({
          file,
          format,
          header: headerRow,
          encoding: options.encoding,
          importedAt,
          topology: options.topology,
          linkRules: options.linkRules,
          mapLinks: options.mapLinks,
          recordsPerMessage: options.recordsPerMessage,
          maxBadRowsReported: options.maxBadRowsReported,
        });
      }
      const cut = cutRows(carry);
      if (cut.end === 0 && carry.length > maxRowChars) {
        throw new ValidationError(`${file}:${nextLine}: row longer than ${maxRowChars} characters (unterminated quote?)`);
      }
      if (cut.end > 0) {
        dispatch(carry.subarray(0, cut.end), false);
        nextLine += cut.lines;
        carry = Buffer.from(carry.subarray(cut.end));
      }
      metrics?.bytes.inc((chunk as Buffer).length);
      await publishReady(false);
      if (options.onProgress && performance.now() - lastProgress >= (options.progressIntervalMs ?? 500)) {
        lastProgress = performance.now();
        options.onProgress({ file, bytesRead: raw.bytesRead, totalBytes, rows: summary.rows, elapsedMs: lastProgress - started });
      }
    }
    if (!header) throw new ValidationError(`${file}: empty file (no header row)`);
    if (carry.length > 0) dispatch(carry, true);
    await publishReady(true);
  } finally {
    raw.destroy();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  metrics?.files.inc({ format: summary.format! });
  summary.totals = [...totals.values()].sort(
    (a, b) =>
      a.provider.localeCompare(b.provider) || a.category.localeCompare(b.category) || a.currency.localeCompare(b.currency),
  );
  summary.elapsedMs = performance.now() - started;
  options.onProgress?.({ file, bytesRead: raw.bytesRead, totalBytes, rows: summary.rows, elapsedMs: summary.elapsedMs });
  return summary;
}
