import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createRegistry } from '../../../core/metrics.ts';
import { createHttpServer, TokenAuthenticator } from '../../../core/http/server.ts';
import { createFlowMetrics } from '../../../ingest/flow/metrics.ts';
import { createSinkMetrics } from '../../../analytics/sink/metrics.ts';
import { createOptimizerMetrics } from '../../../optimizer/metrics.ts';
import { loadDashboardFiles, panelQueries, paths } from '../../../dashboards/index.ts';

/**
 * Debian's Prometheus tools against the repository's files: `promtool check config|rules`, the rule
 * unit tests, and a private Prometheus (own port and data folder, so parallel runs never collide)
 * that loads the alert rules and scrapes a running pathpilot HTTP server.
 */
function promtool(...args: string[]): { code: number; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`promtool is not installed (Debian package prometheus): ${r.error.message}`);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const ruleFile = join(paths.prometheusRules, 'pathpilot.rules.yml');
const ruleCount = (parse(readFileSync(ruleFile, 'utf8')) as { groups: { rules: unknown[] }[] }).groups.reduce(
  (n, g) => n + g.rules.length,
  0,
);

describe('promtool', () => {
  it('accepts the Prometheus configuration and finds its rule files', () => {
    const r = promtool('check', 'config', paths.prometheusConfig);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS: 1 rule files found');
  });

  it('accepts the alert rules', () => {
    const r = promtool('check', 'rules', ruleFile);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`SUCCESS: ${ruleCount} rules found`);
  });

  it('passes the rule unit tests (SLO breach, rollback, budget, drops, lag)', () => {
    const r = promtool('test', 'rules', join(paths.prometheusRuleTests, 'pathpilot.rules.test.yml'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('fails a rule unit test whose expectation is wrong (the tests can catch a broken rule)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-promtool-'));
    try {
      const tests = parse(readFileSync(join(paths.prometheusRuleTests, 'pathpilot.rules.test.yml'), 'utf8')) as {
        rule_files: string[];
        tests: { alert_rule_test: { exp_alerts: unknown[] }[] }[];
      };
      tests.rule_files = [ruleFile];
      tests.tests = tests.tests.slice(0, 1);
      tests.tests[0]!.alert_rule_test[0]!.exp_alerts = [{ exp_labels: { severity: 'critical' } }];
      writeFileSync(join(dir, 't.yml'), stringify(tests));
      const r = promtool('test', 'rules', join(dir, 't.yml'));
      expect(r.code).not.toBe(0);
      expect(r.out).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as T;
  return body;
}

/** Polls `check` every 250 ms until it returns a value or `ms` pass. */
async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const repo = join(paths.prometheusRules, '..', '..', '..');

/** `pathpilot start sink api` as a real process on the embedded adapters (chDB, in-process bus and queue). */
function startPathpilot(port: number): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'cli', 'main.ts'), 'start', 'sink', 'api', '--port', String(port)],
    {
      cwd: repo,
      // Not the test's environment: KAFKA_BROKERS / CLICKHOUSE_URL there would point it at the shared services.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PATHPILOT_API_TOKENS: 'admin:ci:0123456789abcdef0123',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

describe('Prometheus scraping a running pathpilot', () => {
  const registry = createRegistry({ defaultMetrics: true });
  const flow = createFlowMetrics(registry);
  const sink = createSinkMetrics(registry);
  createOptimizerMetrics(registry);
  const server = createHttpServer({ registry, auth: new TokenAuthenticator([]) }, { host: '127.0.0.1', port: 0 });
  let prom: ChildProcess | undefined;
  let cli: ChildProcess | undefined;
  let cliTarget = '';
  let promUrl = '';
  let dir = '';
  let log = '';

  beforeAll(async () => {
    flow.received.inc(42);
    flow.dropped.inc({ reason: 'buffer_full' }, 3);
    sink.lagSeconds.observe({ table: 'flows_raw' }, 0.4);
    await server.start();
    const target = new URL(server.url()).host;
    const cliPort = await freePort();
    cliTarget = `127.0.0.1:${cliPort}`;
    cli = startPathpilot(cliPort);
    cli.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'pp-prometheus-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(paths.prometheusRules, '*.yml')],
        scrape_configs: [
          {
            job_name: 'pathpilot',
            static_configs: [
              { targets: [target], labels: { component: 'ingest' } },
              { targets: [cliTarget], labels: { component: 'sink' } },
            ],
          },
        ],
      }),
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    await waitFor('Prometheus to be ready', 30_000, async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  });

  afterAll(async () => {
    await stopProcess(prom);
    await stopProcess(cli);
    await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sees the pathpilot target up', async () => {
    const target = await waitFor('the target to be up', 30_000, async () => {
      const r = await getJson<{ data: { activeTargets: { health: string; labels: Record<string, string> }[] } }>(
        `${promUrl}/api/v1/targets`,
      );
      return r.data.activeTargets.find(
        (t) => t.labels.job === 'pathpilot' && t.labels.component === 'ingest' && t.health === 'up',
      );
    });
    expect(target.labels.instance, log).toBe(new URL(server.url()).host);
  });

  it('scrapes `pathpilot start sink api` (the real CLI process) and stores its series', async () => {
    const up = await waitFor('the pathpilot process to be scraped', 60_000, async () => {
      const r = await getJson<{ data: { activeTargets: { health: string; labels: Record<string, string> }[] } }>(
        `${promUrl}/api/v1/targets`,
      );
      return r.data.activeTargets.find((t) => t.labels.component === 'sink' && t.health === 'up');
    });
    expect(up.labels.instance, log).toBe(cliTarget);
    type Vector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const q = (expr: string) => getJson<Vector>(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const received = await waitFor('the sink series', 30_000, async () => {
      const r = (await q('pathpilot_analytics_sink_received_total{component="sink"}')).data.result[0];
      return r;
    });
    expect(received.value[1]).toBe('0');
    expect((await q('pathpilot_process_start_time_seconds{component="sink"}')).data.result).toHaveLength(1);
  });

  it('stores the stage series with their values', async () => {
    type Vector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const q = (expr: string) => getJson<Vector>(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const received = await waitFor(
      'pathpilot_ingest_flow_received_total',
      30_000,
      async () => (await q('pathpilot_ingest_flow_received_total')).data.result[0],
    );
    expect(received.value[1]).toBe('42');
    const dropped = (await q('pathpilot_ingest_flow_dropped_total')).data.result;
    expect(dropped.map((r) => [r.metric.reason, r.value[1]])).toEqual([['buffer_full', '3']]);
    const lag = (await q('pathpilot_analytics_sink_lag_seconds_count')).data.result;
    expect(lag[0]?.value[1]).toBe('1');
  });

  it('loads and evaluates every alert rule without errors', async () => {
    type Rules = { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
    const rules = await waitFor('rules to be evaluated', 30_000, async () => {
      const r = await getJson<Rules>(`${promUrl}/api/v1/rules`);
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length === ruleCount && all.every((x) => x.health !== 'unknown') ? all : undefined;
    });
    for (const r of rules) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
  });

  it('parses every PromQL expression of the dashboards', async () => {
    const { promql } = panelQueries(loadDashboardFiles().values());
    expect(promql.length).toBeGreaterThan(10);
    for (const q of promql) {
      const expr = q.target.expr.replace(/\$__rate_interval/g, '1m');
      const r = await getJson<{ status: string; error?: string }>(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      expect(r.status, `${q.dashboard} / ${q.panel}: ${expr}: ${r.error ?? ''}`).toBe('success');
    }
  });
});
