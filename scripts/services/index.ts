/**
 * Local services for development and functional tests, without Docker: Kafka (KRaft, Maven Central
 * jars), ClickHouse, Redis and Prometheus from Debian, all on loopback with their state in
 * `.data/services/`. `up` is idempotent (healthy services are left alone, including ones somebody
 * else started on the same ports), `down` stops only processes whose pid files we wrote.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, PathpilotError } from '../../core/errors.ts';
import type { LocalServiceName, ServicesConfig } from './config.ts';
import { serviceDir } from './config.ts';
import { clickhouse } from './clickhouse.ts';
import { portOpen, withTimeout } from './health.ts';
import { aptInstall } from './install.ts';
import { kafka, kafkaNodes } from './kafka.ts';
import { clickhouseClusterNodes } from './clickhouse-cluster.ts';
import { prometheus } from './prometheus.ts';
import { launchDetached, logTail, ownedPid, terminate, waitUntil, withLock } from './process.ts';
import { redis } from './redis.ts';
import type { LocalService } from './service.ts';
import { findCommand, logFile, pidFile } from './service.ts';

export { defaultServicesConfig, serviceEnv, SERVICE_NAMES, prometheusTargetsDir } from './config.ts';
export type { LocalServiceName, ServicesConfig, ServicesTopology } from './config.ts';
export { prometheusTargetsDirOf } from './health.ts';

/**
 * The service instances a set runs, in start order. The topology decides how many of each engine:
 * one Kafka broker or a KRaft cluster (kafka.ts `kafkaNodes`), one ClickHouse server or shards ×
 * replicas with ZooKeeper (clickhouse-cluster.ts `clickhouseClusterNodes`).
 */
export function servicesFor(cfg: ServicesConfig): LocalService[] {
  return [
    ...kafkaNodes(cfg, kafka),
    ...(cfg.topology.clickhouseCluster ? clickhouseClusterNodes(cfg) : [clickhouse]),
    redis,
    prometheus,
  ];
}

export type ServiceStateName = 'healthy' | 'unhealthy' | 'stopped';

export interface ServiceState {
  /** The instance (`kafka`, `kafka-2`, …). */
  name: string;
  kind: LocalServiceName;
  state: ServiceStateName;
  /** Pid of the process we started (from its pid file), if it is alive. */
  pid?: number;
  /** Healthy but not started by us (somebody else's process on the port). */
  external: boolean;
  address: string;
  /** Health detail (version, …) or the reason it is not healthy. */
  detail: string;
  log: string;
}

export interface Reporter {
  (line: string): void;
}

const silent: Reporter = () => {};
const healthTimeoutMs = 10_000;

function owned(cfg: ServicesConfig, svc: LocalService): number | undefined {
  return ownedPid(pidFile(cfg, svc.name), serviceDir(cfg, svc.name));
}

async function probe(cfg: ServicesConfig, svc: LocalService): Promise<ServiceState> {
  const pid = owned(cfg, svc);
  const base = { name: svc.name, kind: svc.kind, pid, address: svc.address(cfg), log: logFile(cfg, svc.name) };
  try {
    const detail = await withTimeout(svc.health(cfg), healthTimeoutMs, `${svc.name} health check`);
    return { ...base, state: 'healthy', external: pid === undefined, detail };
  } catch (err) {
    return { ...base, state: pid === undefined ? 'stopped' : 'unhealthy', external: false, detail: errorMessage(err) };
  }
}

/** The instances of the kinds (or instance names) asked for; all when none is. */
function select(cfg: ServicesConfig, names?: readonly string[]): LocalService[] {
  const all = servicesFor(cfg);
  if (!names || names.length === 0) return all;
  return all.filter((svc) => names.includes(svc.kind) || names.includes(svc.name));
}

export async function status(cfg: ServicesConfig, names?: readonly string[]): Promise<ServiceState[]> {
  return Promise.all(select(cfg, names).map((svc) => probe(cfg, svc)));
}

/** True when every selected service answers its health request. */
export async function allHealthy(cfg: ServicesConfig, names?: readonly string[]): Promise<boolean> {
  return (await status(cfg, names)).every((s) => s.state === 'healthy');
}

export class ServicesError extends PathpilotError {
  readonly failures: { name: string; reason: string; logTail: string }[];
  /** Instances this call did start (they are up; the caller decides whether to stop them). */
  readonly started: readonly string[];
  constructor(failures: { name: string; reason: string; logTail: string }[], started: readonly string[] = []) {
    super(
      'PP_ERR_SERVICE',
      failures.map((f) => `${f.name} did not start: ${f.reason}\n--- last lines of its log ---\n${f.logTail}\n---`).join('\n'),
    );
    this.name = 'ServicesError';
    this.failures = failures;
    this.started = started;
  }
}

export interface UpResult {
  /** Instances this call started. */
  started: string[];
  states: ServiceState[];
}

const lockTimeoutMs = 300_000;

/**
 * Brings the selected services to healthy: installs missing Debian packages, prepares and starts
 * what is not running, waits for health. Throws ServicesError naming every service that failed,
 * with its log tail (the others stay up).
 */
export async function up(cfg: ServicesConfig, opts: { names?: readonly string[]; say?: Reporter } = {}): Promise<UpResult> {
  const say = opts.say ?? silent;
  return withLock(join(cfg.root, '.lock'), lockTimeoutMs, async () => {
    const selected = select(cfg, opts.names);
    const before = await status(cfg, opts.names);
    const todo = selected.filter((svc) => before.find((s) => s.name === svc.name)?.state !== 'healthy');
    for (const s of before)
      if (s.state === 'healthy') say(`${s.name}: already healthy at ${s.address}${s.external ? ' (not started by us)' : ''}`);
    if (todo.length === 0) return { started: [], states: before };

    const failures: ServicesError['failures'] = [];
    const fail = async (svc: LocalService, reason: string): Promise<void> => {
      failures.push({ name: svc.name, reason, logTail: await logTail(logFile(cfg, svc.name)) });
    };

    // Somebody else's process on our ports that does not answer like the service: refuse to fight it.
    const launchable: LocalService[] = [];
    for (const svc of todo) {
      if (owned(cfg, svc) !== undefined) {
        launchable.push(svc);
        continue;
      }
      const busy: number[] = [];
      for (const port of svc.ports(cfg)) if (await portOpen(cfg.host, port)) busy.push(port);
      if (busy.length > 0)
        await fail(svc, `port ${busy.join(', ')} on ${cfg.host} is taken by another process that does not answer as ${svc.name}`);
      else launchable.push(svc);
    }

    const missing = launchable.flatMap((svc) =>
      svc.prerequisites.filter((p) => !findCommand(p.command)).map((p) => p.debianPackage),
    );
    await aptInstall(missing, say);

    const started: string[] = [];
    await Promise.all(
      launchable.map(async (svc) => {
        let pid = owned(cfg, svc);
        try {
          if (pid === undefined) {
            await svc.prepare(cfg, say);
            rmSync(logFile(cfg, svc.name), { force: true });
            pid = launchDetached({ ...svc.launch(cfg), logFile: logFile(cfg, svc.name), pidFile: pidFile(cfg, svc.name) });
            started.push(svc.name);
            say(`${svc.name}: started (pid ${pid}), waiting for ${svc.address(cfg)}`);
          } else {
            say(`${svc.name}: running (pid ${pid}) but not healthy yet, waiting`);
          }
        } catch (err) {
          await fail(svc, errorMessage(err) + (err instanceof Error && err.cause ? `: ${errorMessage(err.cause)}` : ''));
          return;
        }
        const livePid = pid;
        const problem = await waitUntil(
          async () => {
            await withTimeout(svc.health(cfg), healthTimeoutMs, `${svc.name} health check`);
          },
          {
            timeoutMs: cfg.startTimeoutMs,
            giveUp: () => (owned(cfg, svc) === livePid ? undefined : `process ${livePid} exited`),
          },
        );
        if (problem) await fail(svc, problem);
      }),
    );
    const states = await status(cfg, opts.names);
    for (const s of states)
      if (s.state === 'healthy' && started.includes(s.name)) say(`${s.name}: healthy at ${s.address} (${s.detail})`);
    if (failures.length > 0) throw new ServicesError(failures, started);
    return { started, states };
  });
}

export interface DownResult {
  stopped: string[];
  /** Healthy services on our ports that we did not start and therefore left alone. */
  leftAlone: string[];
}

/** Stops the selected services that we started (pid files); never touches anyone else's process. */
export async function down(cfg: ServicesConfig, opts: { names?: readonly string[]; say?: Reporter } = {}): Promise<DownResult> {
  const say = opts.say ?? silent;
  return withLock(join(cfg.root, '.lock'), lockTimeoutMs, async () => {
    const stopped: string[] = [];
    const leftAlone: string[] = [];
    await Promise.all(
      select(cfg, opts.names).map(async (svc) => {
        const pid = owned(cfg, svc);
        if (pid === undefined) {
          const state = await probe(cfg, svc);
          if (state.state === 'healthy') {
            leftAlone.push(svc.name);
            say(`${svc.name}: answering at ${state.address} but not started by us; left alone`);
          } else say(`${svc.name}: not running`);
          return;
        }
        const how = await terminate(pid, svc.stopGraceMs);
        rmSync(pidFile(cfg, svc.name), { force: true });
        stopped.push(svc.name);
        say(`${svc.name}: stopped (pid ${pid}${how === 'killed' ? ', killed after the grace period' : ''})`);
      }),
    );
    return { stopped, leftAlone };
  });
}
