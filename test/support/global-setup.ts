/**
 * Functional-tier global setup (vitest `globalSetup` of the `functional` project). It makes sure
 * KAFKA_BROKERS, CLICKHOUSE_URL, REDIS_URL (and PROMETHEUS_URL) point at real services, exporting
 * them into process.env before the test workers are forked, so they inherit them:
 *
 * 1. A variable already set is used as is.
 * 2. Else, when a Docker engine answers (`docker info`), containers via testcontainers
 *    (Kafka 4.x KRaft, ClickHouse 18.16, Redis 7); they are removed at teardown.
 * 3. Else the project's own services (scripts/services, `npm run services -- up`), started only when
 *    not already healthy. That is idempotent and locked, so concurrent runs share one set.
 *
 * Teardown: the local services are shared (other runs and engineers use them), so they stay up,
 * except in CI (CI=true) where the services this setup itself started are stopped again, unless
 * PATHPILOT_SERVICES_KEEP=1. Services somebody else started are never stopped.
 *
 * A service that cannot be provided fails the whole run in CI; elsewhere its variable stays unset
 * and `requireService()` fails each test that needs it, with the reason printed here.
 *
 * First of all, `npm run build`'s dist/ is made (0.5 s): the tests of the deployed commands (the
 * Dockerfile's ENTRYPOINT runs it) and of the build itself use it. Then the programs the tests run besides the services (softflowd, pmacctd, nfdump,
 * chromium: scripts/services/tools.ts) are installed with apt when missing, so `npm test` works on a
 * fresh machine as it does after `.ci/run`. PATHPILOT_NO_APT=1 turns that off; an install that fails
 * fails the run in CI and elsewhere only the tests that need the program.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { LocalServiceName, ServicesConfig } from '../../scripts/services/index.ts';
import { ensureTools } from '../../scripts/services/tools.ts';
import { ensureDist } from '../../scripts/build.ts';
import {
  defaultServicesConfig,
  down,
  prometheusTargetsDirOf,
  serviceEnv,
  ServicesError,
  up,
} from '../../scripts/services/index.ts';

const wanted: Record<string, LocalServiceName> = {
  KAFKA_BROKERS: 'kafka',
  CLICKHOUSE_URL: 'clickhouse',
  REDIS_URL: 'redis',
  PROMETHEUS_URL: 'prometheus',
};

const inCI = (): boolean => /^(1|true|yes)$/i.test(process.env.CI ?? '');
const say = (line: string): void => {
  process.stderr.write(`[functional setup] ${line}\n`);
};

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Containers for the missing services (no Prometheus there: tests that need it use the local one). */
async function startContainers(missing: LocalServiceName[]): Promise<() => Promise<void>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const stops: (() => Promise<unknown>)[] = [];
  if (missing.includes('kafka')) {
    // Kafka advertises the address clients must use, so the host port is chosen first and bound 1:1.
    const port = await freePort();
    const c = await new GenericContainer('apache/kafka:4.3.1')
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_NUM_PARTITIONS: '1',
      })
      .withExposedPorts({ container: port, host: port })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    stops.push(() => c.stop());
    process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
  }
  if (missing.includes('clickhouse')) {
    const c = await new GenericContainer('yandex/clickhouse-server:18.16')
      .withCopyContentToContainer([
        {
          content:
            '<yandex><profiles><default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type></default></profiles></yandex>',
          target: '/etc/clickhouse-server/users.d/pathpilot.xml',
        },
      ])
      .withExposedPorts(8123)
      .withWaitStrategy(Wait.forHttp('/ping', 8123))
      .start();
    stops.push(() => c.stop());
    process.env.CLICKHOUSE_URL = `http://${c.getHost()}:${c.getMappedPort(8123)}`;
  }
  if (missing.includes('redis')) {
    const c = await new GenericContainer('redis:7')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start();
    stops.push(() => c.stop());
    process.env.REDIS_URL = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
  }
  return async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
}

async function installTools(cfg: ServicesConfig): Promise<void> {
  if (/^(1|true|yes)$/i.test(process.env.PATHPILOT_NO_APT ?? '')) return;
  try {
    const installed = await ensureTools(cfg, say);
    if (installed.length > 0) say(`installed ${installed.join(', ')}`);
  } catch (err) {
    if (inCI()) throw err;
    say(`test tools are missing; the tests that run them will fail:\n${errorText(err)}`);
  }
}

const errorText = (err: unknown): string =>
  err instanceof Error ? `${err.message}${err.cause instanceof Error ? `\n${err.cause.message}` : ''}` : String(err);

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  await ensureDist();
  await installTools(defaultServicesConfig());
  const missing = Object.entries(wanted)
    .filter(([key]) => !process.env[key])
    .map(([, name]) => name);
  if (missing.length === 0) return undefined;

  let stopContainers: (() => Promise<void>) | undefined;
  const needsLocal = new Set(missing);
  if (missing.some((n) => n !== 'prometheus') && (await dockerAnswers())) {
    say(`Docker answers: containers for ${missing.filter((n) => n !== 'prometheus').join(', ')}`);
    stopContainers = await startContainers(missing);
    for (const name of ['kafka', 'clickhouse', 'redis'] as const) needsLocal.delete(name);
  }

  const cfg = defaultServicesConfig();
  const names = [...needsLocal];
  let started: string[] = [];
  if (names.length > 0) {
    const env = serviceEnv(cfg);
    try {
      started = (await up(cfg, { names, say })).started;
    } catch (err) {
      if (inCI()) {
        // The run fails: stop what this setup did start, as the teardown would have.
        if (err instanceof ServicesError && err.started.length > 0)
          await down(cfg, { names: err.started, say }).catch(() => undefined);
        throw err;
      }
      say(`some services are unavailable; their tests will fail:\n${err instanceof Error ? err.message : String(err)}`);
      if (err instanceof ServicesError) for (const f of err.failures) needsLocal.delete(f.name as LocalServiceName);
      else needsLocal.clear();
    }
    for (const [key, name] of Object.entries(wanted)) if (needsLocal.has(name)) process.env[key] = env[key];
    if (needsLocal.has('prometheus') && !process.env.PROMETHEUS_TARGETS_DIR) {
      // The running Prometheus may be another checkout's: ask it which folder it reads.
      const live = await prometheusTargetsDirOf(env.PROMETHEUS_URL).catch(() => undefined);
      process.env.PROMETHEUS_TARGETS_DIR = live ?? env.PROMETHEUS_TARGETS_DIR;
    }
  }

  const stopOnTeardown = inCI() && !process.env.PATHPILOT_SERVICES_KEEP && started.length > 0;
  return async () => {
    await stopContainers?.();
    if (stopOnTeardown) await down(cfg, { names: started, say });
  };
}
