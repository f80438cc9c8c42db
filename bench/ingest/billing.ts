/**
 * bench:billing — billing import throughput. Generates a FOCUS 1.0 file in the OS temp folder from
 * the real sample (rows repeated with fresh ids, so every line id differs), then imports it through
 * the full path: streaming read, CSV split, mapping, classification, line-id hashing, link mapping
 * and MessagePack encoding of the published batches (onto a bus that accepts and drops them).
 * Target: 100,000 rows/s. Bounded: BENCH_BILLING_ROWS rows (default 300,000, at most 2,000,000).
 */
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../../core/bus/types.ts';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { createRegistry } from '../../core/metrics.ts';
import { CsvSplitter } from '../../ingest/billing/csv.ts';
import { createBillingImporter } from '../../ingest/billing/index.ts';

const target = 100_000;
const rows = Math.min(2_000_000, Math.max(10_000, Number(process.env.BENCH_BILLING_ROWS ?? 300_000)));
const sample = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'billing', 'focus_1.0_sample_1000rows.csv');
const file = join(tmpdir(), `pathpilot-bench-focus-${process.pid}.csv`);

const quote = (v: string) => (v === 'NULL' || /^-?[\d.]+$/.test(v) ? v : `"${v.replace(/"/g, '""')}"`);

async function generate(): Promise<void> {
  const parsed: string[][] = [];
  const splitter = new CsvSplitter();
  splitter.push(readFileSync(sample, 'utf8'), (r) => parsed.push(r.fields));
  splitter.end((r) => parsed.push(r.fields));
  const [header, ...body] = parsed;
  const idIndex = header!.indexOf('Id');
  const out = createWriteStream(file);
  out.write(header!.map(quote).join(',') + '\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const f = [...body[i % body.length]!];
    f[idIndex] = String(10_000_000 + i);
    buf += f.map(quote).join(',') + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/** A bus that accepts every publish (the import path still encodes each batch). */
const nullBus: Bus = {
  kind: 'memory',
  start: async () => {},
  stop: async () => {},
  ensureTopics: async () => {},
  publish: async () => {},
  subscribe: async () => ({ stop: async () => {}, pause: () => {}, resume: () => {} }),
  deleteTopics: async () => {},
};

async function main(): Promise<void> {
  const t0 = performance.now();
  await generate();
  const size = statSync(file).size;
  process.stderr.write(
    `generated ${rows.toLocaleString('en-US')} FOCUS rows (${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  try {
    const topology = new Topology(loadConfig(undefined, {}).root);
    // Best of three runs per mode over the same file: the figure is the importer's, not the
    // neighbours' (the machine is shared; the load average is printed with it). The headline is the
    // default configuration (single-threaded); the opt-in worker-thread mode is printed too.
    const measure = async (workers: number | 'auto') => {
      let best = { seconds: Infinity, cpuSeconds: 0 };
      for (let run = 0; run < 3; run++) {
        const importer = createBillingImporter({ registry: createRegistry(), bus: nullBus, topology }, { workers });
        await importer.start();
        const started = performance.now();
        const cpuStart = process.cpuUsage();
        const [summary] = await importer.importFiles([file]);
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuStart);
        await importer.stop();
        if (!summary || summary.error || summary.imported !== rows) {
          throw new Error(`import incomplete: ${JSON.stringify({ ...summary, badRows: summary?.badRows.slice(0, 3) })}`);
        }
        process.stderr.write(`workers=${workers} run ${run + 1}: ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s\n`);
        if (seconds < best.seconds) best = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
      }
      return best;
    };
    const line = (label: string, best: { seconds: number; cpuSeconds: number }) => {
      const r = rows / best.seconds;
      return (
        `${label}: ${Math.round(r).toLocaleString('en-US')} rows/s (target ${target.toLocaleString('en-US')}, ratio ${(r / target).toFixed(2)}) — ` +
        `best of 3, ${rows.toLocaleString('en-US')} rows, ${(size / 1e6).toFixed(0)} MB in ${best.seconds.toFixed(2)} s, ` +
        `${(size / 1e6 / best.seconds).toFixed(0)} MB/s, ${best.cpuSeconds.toFixed(2)} CPU s ` +
        `(${Math.round(rows / best.cpuSeconds).toLocaleString('en-US')} rows per CPU-second)\n`
      );
    };
    const single = await measure(0);
    const workers = Math.min(4, os.availableParallelism());
    const parallel = await measure(workers);
    const rate = rows / single.seconds;
    process.stdout.write(
      line('billing import (default, single-threaded)', single) +
        line(`billing import (workers: ${workers}, opt-in)`, parallel) +
        `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB\n`,
    );
    process.exitCode = rate >= target ? 0 : 1;
  } finally {
    rmSync(file, { force: true });
  }
}

await main();
