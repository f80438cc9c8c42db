/**
 * `pathpilot demo` (what `npm start` runs): the lab twin with emulated VyOS routers and every role in one
 * process — in-process bus and queue and embedded chDB unless KAFKA_BROKERS / CLICKHOUSE_URL / REDIS_URL
 * say otherwise — on an accelerated simulated clock. With a duration it runs the scenario once, runs
 * the same scenario with static routing as the baseline, and returns the comparison.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../core/clock.ts';
import { startAll, memoizeStop, type Component } from '../core/component.ts';
import { readConfigSource, validateRoot, type LoadedConfig } from '../core/config/index.ts';
import { ConfigError, errorMessage } from '../core/errors.ts';
import { createLogger, rateLimitedLogger, type Logger } from '../core/log.ts';
import { createVyosLabComponent, type VyosLab } from '../lab/vyos/index.ts';
import { createTwin, busSinks, type Twin, type TwinEngine, type TwinState } from '../lab/twin/index.ts';
import { adapterComponents, createShared, type Shared } from './runtime.ts';
import { adapterHealth, apiAuthenticator, createApi } from './api.ts';
import { buildIngest, buildOptimizer, buildSink, optimizerRoutesFor } from './roles.ts';
import { buildActuatorRole, type ActuatorRole } from './actuator-role.ts';
import { writeRouterConfig } from '../actuator/index.ts';
import { demoOverlay, mergeOverlay } from './demo-overlay.ts';
import { runOracle, runStatic } from './outcome/oracle.ts';
import { outcomeTable, type OutcomeTable } from './outcome/summary.ts';

export interface DemoOptions {
  scenario: string;
  seed?: number;
  /** Fully closed loop: low-risk proposals are approved automatically. */
  auto: boolean;
  /** Simulated time to run; undefined = until stopped. */
  durationMs?: number;
  /**
   * Where simulated time starts; default: the current hour, or for a bounded run the start of the
   * current week (Monday 00:00 UTC), so the same command gives the same run all week.
   */
  startMs?: number;
  /** Simulated seconds per wall second. */
  speedup: number;
  apiPort: number;
  configFile?: string;
  log?: Logger;
  /** Extra environment (PATHPILOT__… overrides, service URLs) on top of process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the sink starts when its group has no committed offset. Default true (nothing missed); an
   * isolated run on a shared Kafka sets false so earlier runs' messages stay out of its database.
   */
  sinkFromBeginning?: boolean;
  /**
   * GitOps directory: the actuator writes `<router>.conf` after every change, and every router's final
   * running config is written there when the demo stops (so a run can be checked router by router).
   */
  gitopsDir?: string;
  /**
   * Told after every twin tick of pathpilot's run and, in a bounded run, of the static and oracle runs
   * it is compared with (benchmarks follow the runs minute by minute).
   */
  onTick?(run: 'pathpilot' | 'static' | 'oracle', engine: TwinEngine): void;
  /** Called once the API is listening (the CLI prints the URL). */
  onReady?(info: { url: string; consoleUrl: string; token?: string; routers: Record<string, string> }): void;
}

export interface DemoSummary extends OutcomeTable {
  scenario: string;
  seed: number;
  simulated_hours: number;
  flows_ingested: number;
  rows_stored: Record<string, number>;
  /** Proposals made, applied and rolled back (each proposal counted once, whatever its routers). */
  proposals: number;
  applied: number;
  rolled_back: number;
  /** Wall-clock seconds of the whole command (the only figure a rerun may change). */
  wall_s: number;
}

/** The static-routing run of the same scenario, seed and time (the routers' seed config untouched). */
export function runBaselineState(
  config: LoadedConfig,
  scenario: string,
  seed: number | undefined,
  durationMs: number,
  startMs: number,
): Promise<TwinState> {
  return runStatic({ root: config.root, scenario, ...(seed !== undefined ? { seed } : {}), durationMs, startMs });
}

export interface DemoRuntime {
  shared: Shared;
  lab: VyosLab;
  twin: Twin;
  actuator: ActuatorRole;
  ingest: ReturnType<typeof buildIngest>;
  sink: ReturnType<typeof buildSink>;
  stop(): Promise<void>;
}

/**
 * The demo's configuration: the file (or the bundled example) with environment overrides, then the
 * demo overlay (demo-overlay.ts) merged into the raw data, validated once.
 */
export function loadDemoConfig(
  options: Pick<DemoOptions, 'configFile' | 'auto' | 'speedup' | 'seed'>,
  env: NodeJS.ProcessEnv,
): LoadedConfig {
  const source = readConfigSource(options.configFile, env);
  // Renamed sections move first, so the overlay lands in (and is compared with) the current names.
  const conflicts = source.applyRenames();
  if (conflicts.length > 0) throw new ConfigError(conflicts);
  mergeOverlay(
    source.data,
    demoOverlay(source.data, {
      auto: options.auto,
      speedup: options.speedup,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      storePath: () => mkdtempSync(join(tmpdir(), 'pathpilot-chdb-')),
    }),
  );
  return { root: validateRoot(source), source };
}

/** The hour now, or for a bounded run Monday 00:00 UTC of this week (runs repeat all week). */
function defaultStart(bounded: boolean): number {
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  if (!bounded) return hour;
  const day = Math.floor(hour / 86_400_000) * 86_400_000;
  // 1970-01-01 was a Thursday: days since a Monday = (days + 3) mod 7.
  return day - ((day / 86_400_000 + 3) % 7) * 86_400_000;
}

/** The lab's routers as the actuator and the console see them; usable once the lab component started. */
function labView(component: { readonly lab: VyosLab; stop(): Promise<void> }): VyosLab {
  return {
    get routers() {
      return component.lab.routers;
    },
    router: (name) => component.lab.router(name),
    get urls() {
      return component.lab.urls;
    },
    stop: () => component.stop(),
  };
}

/** At stop, writes every lab router's running config as `set` lines to `<dir>/<router>.conf`. */
function finalConfigExport(dir: string, lab: VyosLab, log: Logger): Component {
  return {
    name: 'lab.gitops-export',
    async start() {},
    stop: memoizeStop(async () => {
      for (const router of Object.keys(lab.urls)) {
        await writeRouterConfig(dir, router, lab.router(router).runningCommands().join('\n')).catch((err: unknown) =>
          log.warn({ router, dir, err: errorMessage(err) }, 'final router config not written'),
        );
      }
    }),
  };
}

/** Builds and starts the whole loop; returns handles (the end-to-end tests drive it through these). */
export async function startDemo(options: DemoOptions): Promise<DemoRuntime> {
  const env = { ...process.env, ...options.env };
  if (options.gitopsDir) env['PATHPILOT__ACTUATOR__GITOPS_DIR'] = options.gitopsDir;
  const log = options.log ?? createLogger({ name: 'pathpilot' });
  const config = loadDemoConfig(options, env);
  // The lab's routers accept one key made up for this run unless the operator exported one.
  const keyVars = new Set(config.root.sites.map((s) => s.router.api_key_env));
  const labKey = randomBytes(18).toString('base64url');
  for (const v of keyVars) env[v] ??= labKey;

  // Simulated time starts near now: retention TTLs compare with the server's real clock, so data stamped
  // long ago would expire as soon as it lands (a week back is well inside the raw tier's 15 days).
  const clock = new SimulatedClock(options.startMs ?? defaultStart(options.durationMs !== undefined));
  // Lockstep: time moves only once the work of the last instant settled, so the run's decisions and
  // totals depend on the seed alone, not on how busy the machine is.
  const warnSlow = rateLimitedLogger(log);
  clock.lockstep({
    timeoutMs: 30_000,
    onTimeout: (busy) => warnSlow('lockstep', { busy }, 'work did not settle within 30 s; simulated time moves on'),
  });
  const shared = await createShared({ config, clock, log, env });
  const labComponent = createVyosLabComponent({ topology: shared.topology, clock, env });
  const lab = labView(labComponent);
  // The API's console shows each emulated router's config revision and URL; the actuator reaches each
  // router at the lab's URL (read when it first talks to it, after the lab started).
  shared.inProcess.lab = lab;

  const ingest = buildIngest(shared);
  const sink = buildSink(shared, options.sinkFromBeginning === false ? { fromBeginning: false } : {});
  const actuator = buildActuatorRole(shared, { labRouters: lab });
  const optimizerRole = buildOptimizer(shared, { currentWeights: () => actuator.currentWeights() });
  const { auth, generated } = apiAuthenticator(env, shared.config.root.api, shared.log.child({ component: 'api' }));
  const api = createApi(shared, auth, {
    port: options.apiPort,
    health: adapterHealth(shared),
    plugins: [optimizerRoutesFor(shared, optimizerRole), actuator.routes],
  });

  // The twin is built when it starts: it sends IPFIX to the port the collector bound (port 0 = any).
  let twin: Twin | undefined;
  const twinComponent: Component = {
    name: 'lab.twin',
    health: () => twin?.health?.() ?? { ok: true },
    async start() {
      const addr = ingest.collector.addresses()[0]!;
      twin = createTwin(
        {
          clock,
          config: config.root,
          registry: shared.registry,
          log: log.child({ component: 'lab.twin' }),
          routers: lab.routers,
          onFatal: shared.supervisor.onFatal,
          ...(options.onTick ? { onTick: (engine: TwinEngine) => options.onTick!('pathpilot', engine) } : {}),
          sinks: {
            ...busSinks(shared.bus),
            onBillingFile: async (file) => {
              await ingest.billing
                .importFiles([file], { format: 'focus' })
                .catch((err: unknown) => log.warn({ err: errorMessage(err), file }, 'billing import failed'));
            },
          },
        },
        {
          scenario: options.scenario,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          mode: 'drive',
          speedup: options.speedup,
          ...(options.durationMs !== undefined ? { duration_s: options.durationMs / 1000 } : {}),
          flow: { collector: `${addr.address}:${addr.port}` },
        },
      );
      await twin.start();
      // Datagrams sent and not yet received, records not yet handed to the bus: work a lockstep run waits for.
      const sent = twin;
      clock.activity.addSource({
        name: 'flow',
        pending: () => {
          const s = ingest.collector.stats();
          return Math.max(0, sent.sentDatagrams() - s.datagrams) + s.publishing;
        },
      });
    },
    stop: memoizeStop(async () => {
      await twin?.stop();
    }),
  };
  const components = [
    labComponent,
    // Stops just before the lab (components stop in reverse): every other writer has stopped by then.
    ...(options.gitopsDir ? [finalConfigExport(options.gitopsDir, lab, log)] : []),
    ...adapterComponents(shared),
    sink,
    ...ingest.components,
    ...actuator.components,
    optimizerRole.optimizer,
    api,
    twinComponent,
  ];
  shared.supervisor.status.watch(components);
  const stopAll = await startAll(components, shared.supervisor.status);
  // A stopping run leaves lockstep first: the twin's loop may be waiting for work that stopping ends.
  const stop = memoizeStop(async () => {
    clock.unlock();
    await stopAll();
  });
  const url = api.url();
  options.onReady?.({
    url,
    consoleUrl: `${url}/${generated ? `#token=${generated}` : ''}`,
    ...(generated ? { token: generated } : {}),
    routers: lab.urls,
  });
  return {
    shared,
    lab,
    get twin() {
      if (!twin) throw new Error('twin not started');
      return twin;
    },
    actuator,
    ingest,
    sink,
    stop,
  };
}

/** Runs the demo for a bounded simulated duration and compares it with static routing. */
export async function runDemo(options: DemoOptions & { durationMs: number }): Promise<DemoSummary> {
  const wallStart = performance.now();
  const demo = await startDemo(options);
  try {
    // The twin stops ticking at the end of the duration (after the last tick's work settled). Bounded in
    // wall time too, generously: in lockstep a slow machine takes longer (a quiet 2-core machine runs the
    // embedded default at ~250 simulated seconds per wall second), it does not skip work.
    const wallLimitMs = Math.max(3_600_000, (options.durationMs / Math.max(1, options.speedup)) * 10);
    let guard: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      demo.twin.finished().then(() => 'finished' as const),
      demo.shared.supervisor.fatal.then(() => 'died' as const),
      new Promise<'timeout'>((resolve) => (guard = setTimeout(() => resolve('timeout'), wallLimitMs))),
    ]);
    clearTimeout(guard);
    if (outcome === 'timeout')
      demo.shared.log.warn(
        { wall_limit_s: wallLimitMs / 1000 },
        'the bounded demo hit its wall-clock guard; reporting the time simulated so far',
      );
  } finally {
    await demo.stop();
  }
  const died = demo.shared.supervisor.failed();
  if (died) throw new Error(`the demo stopped: background loop ${died.component}/${died.loop} died: ${died.error}`);
  // The twin's own time: what was simulated, whatever the clock's sleepers did after its last tick.
  const startMs = demo.twin.engine.startMs;
  const state = demo.twin.state();
  const simulatedMs = state.time - startMs;
  // Static routing and the hindsight oracle over the same scenario, seed and simulated time (offline).
  const run = {
    root: demo.shared.config.root,
    scenario: options.scenario,
    seed: demo.twin.scenario.seed,
    startMs,
    durationMs: simulatedMs,
  };
  const tick = (name: 'static' | 'oracle') =>
    options.onTick ? { onTick: (engine: TwinEngine) => options.onTick!(name, engine) } : {};
  const staticState = await runStatic({ ...run, ...tick('static') });
  const oracleState = await runOracle({ ...run, ...tick('oracle') });
  const counts = demo.actuator.counts();
  return {
    scenario: demo.twin.scenario.name,
    seed: demo.twin.scenario.seed,
    simulated_hours: simulatedMs / 3_600_000,
    flows_ingested: demo.ingest.collector.stats().flows,
    rows_stored: demo.sink.stored(),
    proposals: counts.proposals,
    applied: counts.applied,
    rolled_back: counts.rolled_back,
    ...outcomeTable({ pathpilot: state, static: staticState, oracle: oracleState }),
    wall_s: Math.round((performance.now() - wallStart) / 100) / 10,
  };
}
