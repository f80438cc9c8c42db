/**
 * `npm run bench:services`: how long the local services take to come up.
 *   1. from nothing: empty data folder and empty Maven jar cache (Kafka jars downloaded from Maven
 *      Central, storage formatted, configs written) up to all four healthy; target < 180 s.
 *      (Debian packages already installed are not removed: that part is apt's own speed.)
 *   2. `down` of all four.
 *   3. `up` again, already installed (jars and data kept); target < 30 s.
 * It runs an isolated set in `.data/bench-services/` on ports +20000 (29092, 28123, 26379, 29090),
 * so the shared services others are testing against stay untouched. `--keep-jar-cache` keeps the
 * bench's Maven cache for step 1 (measures a wiped data folder only).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultServicesConfig, down, up } from '../scripts/services/index.ts';
import { projectRoot } from '../scripts/services/config.ts';

const { values } = parseArgs({ options: { 'keep-jar-cache': { type: 'boolean', default: false } } });

const root = join(projectRoot, '.data', 'bench-services');
const mavenRepo = join(projectRoot, '.data', 'bench-services-m2');
const base = defaultServicesConfig();
const cfg = defaultServicesConfig({
  root,
  ports: {
    kafka: 29092,
    kafkaController: 29093,
    clickhouseHttp: 28123,
    clickhouseTcp: 29000,
    clickhouseInterserver: 29009,
    zookeeper: 22181,
    redis: 26379,
    prometheus: 29090,
  },
  kafka: { ...base.kafka, mavenRepo },
  startTimeoutMs: 180_000,
});
const say = (line: string): void => {
  process.stderr.write(`  ${line}\n`);
};

async function timed(label: string, fn: () => Promise<unknown>): Promise<number> {
  process.stderr.write(`${label}\n`);
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function line(label: string, seconds: number, targetSeconds?: number): string {
  if (targetSeconds === undefined) return `${label}: ${seconds.toFixed(1)} s`;
  const ratio = targetSeconds / seconds;
  return `${label}: ${seconds.toFixed(1)} s (target < ${targetSeconds} s, ratio ${ratio.toFixed(2)} = target/measured, ${ratio >= 1 ? 'met' : 'MISSED'})`;
}

async function main(): Promise<number> {
  await down(cfg, { say }); // leftovers of an interrupted run
  rmSync(root, { recursive: true, force: true });
  if (!values['keep-jar-cache']) rmSync(mavenRepo, { recursive: true, force: true });
  try {
    const cold = await timed(`up from nothing (${values['keep-jar-cache'] ? 'jar cache kept' : 'empty jar cache'})`, () =>
      up(cfg, { say }),
    );
    const stop = await timed('down', () => down(cfg, { say }));
    const warm = await timed('up, already installed', () => up(cfg, { say }));
    const results = [
      line(`services up from nothing${values['keep-jar-cache'] ? ' (jar cache kept)' : ''}`, cold, 180),
      line('services down', stop),
      line('services up, already installed', warm, 30),
    ];
    process.stdout.write(`${results.join('\n')}\n`);
    return cold < 180 && warm < 30 ? 0 : 1;
  } finally {
    await down(cfg, { say });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench:services failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
