import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { availableParallelism } from 'node:os';
import type { Bus } from '../../core/bus/types.ts';
import { memoizeStop, parseSection, type Component } from '../../core/component.ts';
import type { Topology } from '../../core/config/index.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Registry } from '../../core/metrics.ts';
import { costRecord, type CostRecord } from '../../core/records/index.ts';
import { publishRecords } from '../../core/bus/publish.ts';
import { billingConfigSchema } from './config.ts';
import type { BillingFormat } from './formats/common.ts';
import { emptySummary, importFile, type ImportProgress, type ImportSummary } from './importer.ts';
import { createLinkMapper } from './links.ts';
import { createBillingMetrics, type BillingMetrics } from './metrics.ts';
import { importFileParallel } from './parallel.ts';
import { resolveEncoding, type BillingEncoding, type ResolvedEncoding } from './encoding.ts';

/** The first bytes of a file's content (decompressed when gzipped): its BOM and first character. */
async function readHead(file: string, bytes = 256): Promise<Buffer> {
  const raw = createReadStream(file, { start: 0, end: file.endsWith('.gz') ? 64 * 1024 - 1 : bytes - 1 });
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of input) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= bytes) break;
    }
  } catch (err) {
    // A gzip stream cut at 64 KiB ends early; only a head that could not be read at all is an error.
    if (length === 0) throw err;
  } finally {
    raw.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** GCP JSON lines (by name, or a first character of `{`). */
function looksLikeJsonLines(file: string, head: Buffer, encoding: ResolvedEncoding): boolean {
  if (/\.jsonl?(\.gz)?$/i.test(file)) return true;
  return head
    .toString(encoding === 'latin1' ? 'latin1' : 'utf8')
    .trimStart()
    .startsWith('{');
}

export { billingConfigSchema, defaultBillingConfig, type BillingConfig } from './config.ts';
export { billingFormats, type BillingFormat } from './formats/common.ts';
export { billingEncodings, type BillingEncoding } from './encoding.ts';
export { importFile, type BadRow, type CostTotal, type ImportProgress, type ImportSummary } from './importer.ts';
export { createLinkMapper } from './links.ts';

export interface BillingDeps {
  registry: Registry;
  /** Where cost records go (`pathpilot.cost.v1`); without one, imports only summarize (dry run). */
  bus?: Bus;
  /** Topic override (tests); default `costRecord.topic`. */
  topic?: string;
  /** Enables mapping of transfer lines to links. */
  topology?: Topology;
  log?: Logger;
}

export interface ImportFilesOptions {
  format?: BillingFormat | 'auto';
  /** Text encoding of the files: 'auto' (default: BOM, else UTF-8), or declared (Latin-1 must be). */
  encoding?: BillingEncoding;
  onProgress?: (progress: ImportProgress) => void;
  /** Also receives each published batch (the CLI's --json output, tests). */
  onRecords?: (records: CostRecord[]) => Promise<void> | void;
  signal?: AbortSignal;
}

export interface BillingImporter extends Component {
  readonly metrics: BillingMetrics;
  /**
   * Imports files one after another. A file that cannot be imported as a whole gets a summary with
   * `error` set; the other files still import.
   */
  importFiles(files: readonly string[], options?: ImportFilesOptions): Promise<ImportSummary[]>;
}

/** Inert: validates the config and builds; `start()` creates the topic when a bus is given. */
export function createBillingImporter(deps: BillingDeps, input: unknown = {}): BillingImporter {
  const cfg = parseSection(billingConfigSchema, input, 'ingest.billing');
  const metrics = createBillingMetrics(deps.registry);
  const linkMapper = createLinkMapper(deps.topology, cfg.link_rules, cfg.map_links);
  const topic = deps.topic ?? costRecord.topic;
  let started = false;

  return {
    name: 'ingest/billing',
    metrics,
    async start() {
      if (deps.bus) await deps.bus.ensureTopics([{ topic }]);
      started = true;
    },
    stop: memoizeStop(async () => {
      started = false;
    }),
    async importFiles(files, options = {}) {
      if (deps.bus && !started) throw new Error('ingest/billing: start() the importer before importing');
      const summaries: ImportSummary[] = [];
      for (const file of files) {
        try {
          const workers = cfg.workers === 'auto' ? Math.min(4, availableParallelism()) : cfg.workers;
          const importedAt = Date.now();
          const declared = options.encoding ?? 'auto';
          let parallelEncoding: 'utf8' | 'latin1' | undefined;
          if (
            workers > 0 &&
            !options.onRecords &&
            options.format !== 'gcp' &&
            (await stat(file)).size >= cfg.parallel_min_bytes
          ) {
            const head = await readHead(file);
            const encoding = resolveEncoding(file, declared, head);
            // Worker segments are cut at LF bytes: UTF-16 (and JSON lines) stay single-threaded.
            if ((encoding === 'utf8' || encoding === 'latin1') && !looksLikeJsonLines(file, head, encoding)) {
              parallelEncoding = encoding;
            }
          }
          const summary = parallelEncoding
            ? await importFileParallel(file, {
                workers,
                encoding: parallelEncoding,
                importedAt,
                format: options.format ?? 'auto',
                topology: deps.topology?.config,
                linkRules: cfg.link_rules,
                mapLinks: cfg.map_links,
                recordsPerMessage: cfg.records_per_message,
                maxBadRowsReported: cfg.max_bad_rows_reported,
                progressIntervalMs: cfg.progress_interval_ms,
                metrics,
                signal: options.signal,
                onProgress: options.onProgress,
                onMessages: async (messages) => {
                  if (deps.bus) await deps.bus.publish(topic, messages);
                },
              })
            : await importFile(file, {
                format: options.format ?? 'auto',
                encoding: declared,
                importedAt,
                batchSize: cfg.batch_size,
                maxBadRowsReported: cfg.max_bad_rows_reported,
                progressIntervalMs: cfg.progress_interval_ms,
                linkMapper,
                metrics,
                signal: options.signal,
                onProgress: options.onProgress,
                onBatch: async (records) => {
                  if (deps.bus)
                    await publishRecords(deps.bus, costRecord, records, { recordsPerMessage: cfg.records_per_message, topic });
                  await options.onRecords?.(records);
                },
              });
          deps.log?.info(
            { file, format: summary.format, rows: summary.rows, imported: summary.imported, bad: summary.bad },
            'billing file imported',
          );
          summaries.push(summary);
        } catch (err) {
          metrics.errors.inc({ error_type: 'file' });
          deps.log?.warn({ file, err: errorMessage(err) }, 'billing file not imported');
          summaries.push({ ...emptySummary(file, undefined, 0), error: errorMessage(err) });
        }
      }
      return summaries;
    },
  };
}
