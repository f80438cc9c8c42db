/**
 * `npx tsx bench/core/config.ts`: what loading a configuration file costs at the edges of what is
 * accepted (issue 12: `config --check` took 2 GB of memory on a 50 MB file).
 *   1. the largest file accepted (1 MiB, ~39,000 keys in one mapping, the worst shape for the parser):
 *      load time and peak RSS of the process (target: < 10 s, < 512 MB);
 *   2. a 50 MB file is refused before it is read: time and memory growth (target: < 100 ms, < 50 MB).
 * Each figure is printed with its ratio to the target (below 1 meets it). Files live in a temporary
 * folder that is removed afterwards.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';
import { exampleConfigPath, loadConfig, maxConfigBytes } from '../../core/config/index.ts';

const example = readFileSync(exampleConfigPath, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'pp-bench-config-'));

/** The example plus per-exporter sampling rates until `bytes` is reached: many keys, one mapping. */
function configOf(bytes: number): string {
  const parts = [`${example}\ningest:\n  flow:\n    sampling:\n      exporters:\n`];
  let size = parts[0]!.length;
  for (let i = 0; ; i++) {
    const line = `        "10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}": ${1 + (i % 1000)}\n`;
    if (size + line.length > bytes) break;
    parts.push(line);
    size += line.length;
  }
  return parts.join('');
}

const mb = (n: number) => n / 1048576;
const report = (what: string, value: number, unit: string, target: number) =>
  console.log(
    `${what.padEnd(44)} ${value.toFixed(1).padStart(8)} ${unit.padEnd(3)} target < ${target} ${unit}  ratio ${(value / target).toFixed(3)}`,
  );

try {
  // Largest accepted file first, so the peak RSS is this load's and not the 50 MB file's writing.
  const largest = join(dir, 'largest.yaml');
  const text = configOf(maxConfigBytes);
  writeFileSync(largest, text);
  const lines = text.split('\n').length;
  let t0 = performance.now();
  loadConfig(largest, {});
  const ms = performance.now() - t0;
  console.log(`largest accepted file: ${mb(Buffer.byteLength(text)).toFixed(2)} MiB, ${lines.toLocaleString('en-US')} lines`);
  report('largest accepted file: load time', ms / 1000, 's', 10);
  report('largest accepted file: peak RSS of the process', process.resourceUsage().maxRSS / 1024, 'MB', 512);

  // The 50 MB file is written in 1 MiB chunks, never held as one string.
  const big = join(dir, 'big.yaml');
  const fd = openSync(big, 'w');
  const chunk = Buffer.from(configOf(maxConfigBytes));
  for (let written = 0; written < 50 * 1024 * 1024; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  const rss = process.memoryUsage().rss;
  t0 = performance.now();
  let refused = false;
  try {
    loadConfig(big, {});
  } catch (err) {
    refused = err instanceof ConfigError && /the limit is/.test(err.message);
  }
  const refuseMs = performance.now() - t0;
  if (!refused) throw new Error('the 50 MB file was not refused');
  report('50 MB file refused: time', refuseMs, 'ms', 100);
  report('50 MB file refused: memory growth', mb(process.memoryUsage().rss - rss), 'MB', 50);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
