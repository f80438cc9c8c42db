/**
 * The digital twin of a multi-cloud WAN. Sites, links and paths come from the topology; RTTs and prices
 * from real measurement tables (lab/twin/data); demand, incidents and the seed from a scenario
 * (lab/scenarios). Each tick the twin routes demand the way every source router's config says
 * (WAN load-balancing weights, policy routes, QoS shapers), applies congestion and incidents, and emits
 * what a real network emits: probe windows, interface counters, sampled NetFlow v9/IPFIX datagrams (over
 * UDP from each site's exporter address) and daily FOCUS billing files. `state()` is the ground truth.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SimulatedClock, type Clock } from '../../core/clock.ts';
import { LoopTracker, memoizeStop, parseSection, type Component, type OnFatal } from '../../core/component.ts';
import { loadConfig, type Topology, type RootConfig } from '../../core/config/index.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';
import { createLogger, rateLimitedLogger, type Logger } from '../../core/log.ts';
import { createRegistry, type Registry } from '../../core/metrics.ts';
import type { FlowRecord, IfaceRecord, ProbeRecord } from '../../core/records/index.ts';
import { FlowEncoder } from '../../ingest/flow/index.ts';
import type { ConfigJson } from '../vyos/index.ts';
import { FocusBilling } from './billing.ts';
import { twinConfigSchema, type TwinConfig } from './config.ts';
import { flowRecords, ifaceRecords, probeRecords } from './emit.ts';
import { createTwinMetrics } from './metrics.ts';
import { TwinEngine, type TwinState } from './model.ts';
import { readRouterRouting } from './routing.ts';
import { loadScenario, type Scenario } from './scenario.ts';

export type { TwinState, PathQuality, LinkDirSnapshot } from './model.ts';
export type { Scenario, Incident } from './scenario.ts';
export { TwinEngine } from './model.ts';
export { loadScenario, parseScenario, builtinScenarios, scenarioSchema } from './scenario.ts';
export { twinConfigSchema, type TwinConfig, type TwinConfigInput } from './config.ts';
export { readRouterRouting, parseRate } from './routing.ts';
export { FOCUS_COLUMNS } from './billing.ts';
export { busSinks } from './sinks.ts';

/**
 * What the twin needs of a router: the running config as `/retrieve showConfig` renders it (throwing when
 * the path is empty), and commit notifications. The VyOS emulator's `VyosRouterHandle` satisfies it.
 */
export interface TwinRouter {
  /** The image's version string (e.g. `1.5-rolling-202506020019`): what the router does depends on it. */
  readonly image?: string;
  showConfig(path?: string[]): ConfigJson;
  onCommit?(listener: () => void): () => void;
}

/** Pluggable outputs; `npm start` wires them to the bus, tests count them. */
export interface TwinSinks {
  onProbe?(records: ProbeRecord[]): void | Promise<void>;
  onIface?(records: IfaceRecord[]): void | Promise<void>;
  /** One NetFlow v9 / IPFIX datagram and the exporter (router) address it comes from. */
  onFlowDatagram?(datagram: Buffer, exporter: string): void | Promise<void>;
  /** The flow records behind the datagrams (before encoding), per exporting site. */
  onFlows?(records: FlowRecord[], exporter: string): void | Promise<void>;
  /** A complete daily FOCUS 1.0 CSV file. */
  onBillingFile?(path: string): void | Promise<void>;
}

export interface TwinDeps {
  clock: Clock;
  /** The topology (the running pathpilot.yaml); a scenario's `topology` file replaces it. */
  config: RootConfig;
  registry?: Registry;
  log?: Logger;
  /** Emulated routers by site id; sites without one route everything over their primary paths. */
  routers?: ReadonlyMap<string, TwinRouter>;
  sinks?: TwinSinks;
  /** Told when the tick loop dies (the composition root stops the process). */
  onFatal?: OnFatal;
  /** Told after every tick (benchmarks follow the run minute by minute through `engine.state()`). */
  onTick?(engine: TwinEngine): void;
}

export interface Twin extends Component {
  readonly engine: TwinEngine;
  readonly scenario: Scenario;
  readonly config: TwinConfig;
  /** Ground truth after the last tick. */
  state(): TwinState;
  /** Runs one tick now (reads changed router configs, steps the model, emits). */
  step(): Promise<void>;
  /** Runs ticks covering `ms` of simulated time, advancing the clock when it is a SimulatedClock. */
  runFor(ms: number): Promise<void>;
  /** Bytes the last tick's flows stand for, per "from>to|class" (bytes × sampling rate). */
  intendedFlowBytes(): ReadonlyMap<string, number>;
  /** Writes the billing rows of the current partial day too. */
  flushBilling(): Promise<string[]>;
  /** Incidents with absolute times (scenario + seeded): ground truth for failure forecasting. */
  incidentSchedule(): ReturnType<TwinEngine['incidentSchedule']>;
  /** Flow datagrams handed to the collector socket so far (a lockstep run waits until they arrived). */
  sentDatagrams(): number;
  /** drive with `duration_s`: resolves once the last tick ran and its work settled. */
  finished(): Promise<void>;
}

/** `host:port` of `lab.twin.flow.collector`, checked when the twin is created. */
function parseCollector(address: string | undefined): { host: string; port: number } | undefined {
  if (!address) return undefined;
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m || !m[1] || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new ConfigError([`lab.twin.flow.collector: expected "host:port", got "${address}"`]);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * Inert: parses the `lab.twin` section (throwing ConfigError) and returns the twin. The scenario file,
 * a scenario's topology file and the billing folder are read or made when the twin is first used:
 * by `start()`, or by an offline `runFor`/`step`/`engine` (baselines and tests run the twin unstarted).
 */
export function createTwin(deps: TwinDeps, input: unknown = {}): Twin {
  const config = parseSection(twinConfigSchema, input, 'lab.twin');
  const collector = parseCollector(config.flow.collector);
  let loaded: Twin | undefined;
  const load = (): Twin => (loaded ??= loadTwin(deps, config, collector));
  return {
    name: 'lab.twin',
    config,
    get engine() {
      return load().engine;
    },
    get scenario() {
      return load().scenario;
    },
    state: () => load().state(),
    step: async () => load().step(),
    runFor: async (ms) => load().runFor(ms),
    intendedFlowBytes: () => load().intendedFlowBytes(),
    incidentSchedule: () => load().incidentSchedule(),
    sentDatagrams: () => loaded?.sentDatagrams() ?? 0,
    finished: () => load().finished(),
    flushBilling: async () => load().flushBilling(),
    health: () => loaded?.health?.() ?? { ok: true },
    start: async () => load().start(),
    stop: memoizeStop(async () => {
      await loaded?.stop();
    }),
  };
}

/** Reads the scenario (and its topology), builds the engine and the emitters: the twin's I/O. */
function loadTwin(deps: TwinDeps, config: TwinConfig, collector: { host: string; port: number } | undefined): Twin {
  const { scenario: loaded, file: scenarioFile } = loadScenario(config.scenario);
  const scenario: Scenario = config.seed !== undefined ? { ...loaded, seed: config.seed } : loaded;
  let root = deps.config;
  if (scenario.topology) {
    // The loader validates the file and names bad keys.
    root = loadConfig(resolve(dirname(scenarioFile), scenario.topology), {}).root;
  }
  const tickMs = config.tick_s * 1000;
  const startMs = scenario.start ? Date.parse(scenario.start) : Math.floor(deps.clock.now() / tickMs) * tickMs;
  const engine = new TwinEngine({ root, scenario, startMs, tickMs });
  const log = deps.log ?? createLogger({ name: 'lab.twin' });
  const warn = rateLimitedLogger(log);
  const metrics = createTwinMetrics(deps.registry ?? createRegistry());
  const sinks = deps.sinks ?? {};
  const topo: Topology = engine.topology;

  for (const c of config.probes.classes)
    if (!topo.classes.has(c)) throw new ConfigError([`lab.twin.probes.classes: unknown class "${c}"`]);
  const topClass = [...engine.classes].sort((a, b) => a.priority - b.priority)[0]!;
  const probeClasses = (config.probes.classes.length ? config.probes.classes : [topClass.id]).map((id) =>
    engine.classes.findIndex((c) => c.id === id),
  );
  const siteIds = [...topo.sites.keys()];
  const exporterOf = new Map(siteIds.map((id, i) => [id, topo.site(id).router.exporter_address ?? `127.0.1.${i + 1}`]));
  const encoders = new Map(
    siteIds.map((id, i) => [
      id,
      new FlowEncoder({
        format: config.flow.format,
        domainId: i + 1,
        samplingRate: config.flow.sampling_rate,
        bootTimeMs: startMs - 3_600_000,
      }),
    ]),
  );
  const billing = config.billing.enabled
    ? new FocusBilling(engine, config.billing.dir || mkdtempSync(join(tmpdir(), 'pathpilot-twin-billing-')))
    : undefined;

  const dirty = new Set<string>(siteIds);
  const unsubscribe: (() => void)[] = [];
  const sockets = new Map<string, Socket>();
  let intended = new Map<string, number>();
  let subscribed = false;
  let lastIface = -Infinity;
  const abort = new AbortController();
  const loops = new LoopTracker('lab.twin', { log, onFatal: deps.onFatal });
  let loop: Promise<void> | undefined;
  let datagramsSent = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const speedOf = (site: string) => (iface: string) =>
    engine.linkDirs.find((l) => l.from === site && l.iface === iface)?.capacityBps ?? 1e9;

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    for (const [site, router] of deps.routers ?? []) {
      if (!topo.sites.has(site)) continue;
      if (router.onCommit) unsubscribe.push(router.onCommit(() => dirty.add(site)));
    }
  }

  function readRouters(): void {
    for (const site of dirty) {
      const router = deps.routers?.get(site);
      if (!router) {
        engine.setRouting(site, undefined);
        continue;
      }
      try {
        const version = topo.site(site).router.vyos_version;
        const routing = readRouterRouting((path) => router.showConfig(path), speedOf(site), version, router.image);
        engine.setRouting(site, routing);
        metrics.routingReads.inc();
        if (routing.ignored.length) metrics.ignored.inc(routing.ignored.length);
      } catch (err) {
        metrics.errors.inc({ error_type: 'router_read' });
        warn(`router:${site}`, { site, err: errorMessage(err) }, 'cannot read router config; keeping the previous routing');
      }
    }
    dirty.clear();
    // Routers without commit notifications are re-read every tick.
    for (const [site, router] of deps.routers ?? []) if (!router.onCommit && topo.sites.has(site)) dirty.add(site);
  }

  async function send(datagram: Buffer, site: string): Promise<void> {
    const exporter = exporterOf.get(site)!;
    if (sinks.onFlowDatagram) await sinks.onFlowDatagram(datagram, exporter);
    const sock = sockets.get(site);
    if (sock && collector) {
      await new Promise<void>((resolve) =>
        sock.send(datagram, collector!.port, collector!.host, (err) => {
          if (!err) datagramsSent++;
          if (err) {
            metrics.errors.inc({ error_type: 'udp_send' });
            warn('udp', { err: err.message }, 'flow datagram send failed');
          }
          resolve();
        }),
      );
    }
  }

  async function step(): Promise<void> {
    subscribe();
    readRouters();
    const tickStart = engine.time;
    engine.step();
    deps.onTick?.(engine);
    const now = engine.time;
    metrics.ticks.inc();
    metrics.simTime.set(now / 1000);

    if (config.probes.enabled && sinks.onProbe) {
      const recs = probeRecords(engine, probeClasses, config.probes.per_window, tickStart);
      await sinks.onProbe(recs);
      metrics.emitted.inc({ kind: 'probe' }, recs.length);
    }
    if (config.iface.enabled && sinks.onIface && now - lastIface >= config.iface.interval_s * 1000) {
      lastIface = now;
      const recs = ifaceRecords(engine, now);
      await sinks.onIface(recs);
      metrics.emitted.inc({ kind: 'iface' }, recs.length);
    }
    if (config.flow.enabled && (sinks.onFlowDatagram || sinks.onFlows || collector)) {
      const intent = { bytes: new Map<string, number>() };
      const bySite = flowRecords(
        engine,
        {
          samplingRate: config.flow.sampling_rate,
          maxRecordsPerPath: config.flow.max_records_per_path,
          exporterOf: (s) => exporterOf.get(s)!,
          format: config.flow.format,
        },
        tickStart,
        intent,
      );
      intended = intent.bytes;
      for (const [site, records] of bySite) {
        if (records.length === 0) continue;
        if (sinks.onFlows) await sinks.onFlows(records, exporterOf.get(site)!);
        const datagrams = encoders.get(site)!.encode(records, now);
        await Promise.all(datagrams.map((d) => send(d, site)));
        metrics.emitted.inc({ kind: 'flow' }, records.length);
        metrics.emitted.inc({ kind: 'datagram' }, datagrams.length);
      }
    }
    if (billing) {
      billing.record(tickStart);
      for (const file of billing.flush(now)) {
        metrics.emitted.inc({ kind: 'billing_file' });
        if (sinks.onBillingFile) await sinks.onBillingFile(file);
      }
    }
    metrics.costTotal.set(engine.dirCost.reduce((a, b) => a + b, 0));
  }

  async function runFor(ms: number): Promise<void> {
    const end = engine.time + ms;
    const maxTicks = Math.ceil(ms / tickMs) + 1;
    for (let i = 0; i < maxTicks && engine.time + tickMs <= end && !abort.signal.aborted; i++) {
      if (deps.clock instanceof SimulatedClock) await deps.clock.advanceTo(engine.time + tickMs);
      await step();
    }
  }

  async function openSockets(): Promise<void> {
    if (!collector || !config.flow.enabled) return;
    const v6 = collector.host.includes(':');
    for (const site of siteIds) {
      const sock = createSocket(v6 ? 'udp6' : 'udp4');
      sock.on('error', (err) => {
        metrics.errors.inc({ error_type: 'udp_socket' });
        warn('udp-socket', { err: err.message }, 'flow exporter socket error');
      });
      const address = config.flow.bind_exporter && !v6 ? exporterOf.get(site) : undefined;
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ port: 0, ...(address ? { address } : {}) }, () => {
          sock.off('error', reject);
          resolve();
        });
      }).catch((err: unknown) => {
        throw new ConfigError([
          `lab.twin.flow.bind_exporter: cannot bind the exporter socket of ${site} to ${address}: ${errorMessage(err)}`,
        ]);
      });
      sockets.set(site, sock);
    }
  }

  async function run(): Promise<void> {
    const signal = abort.signal;
    const wallStart = performance.now();
    const simStart = engine.time;
    const end = config.duration_s > 0 ? simStart + config.duration_s * 1000 : Infinity;
    while (!signal.aborted) {
      try {
        if (config.mode === 'drive') {
          const clock = deps.clock as SimulatedClock;
          if (engine.time + tickMs > end) {
            // The last tick's data and the decisions it set off land before the run counts as done.
            await clock.settle();
            finish();
            return;
          }
          // The tick [t, t + tick) is simulated and emitted first, then the clock moves to its end: what
          // wakes at t + tick (a self-heal pass, a guard interval) finds that window's data, as it would
          // in a real network where probes report at the end of their window.
          await step();
          await clock.advanceTo(engine.time);
          if (config.speedup > 0) {
            const due = wallStart + (engine.time - simStart) / config.speedup;
            const wait = due - performance.now();
            await delay(Math.max(0, wait), undefined, { signal }).catch(() => undefined);
          } else await new Promise((r) => setImmediate(r));
        } else {
          // Behind the clock (it jumped, or a sink was slow): catch up tick by tick without sleeping.
          const wait = engine.time + tickMs - deps.clock.now();
          if (wait > 0) await deps.clock.sleep(wait, signal);
          else await new Promise((r) => setImmediate(r));
          if (signal.aborted) break;
          await step();
        }
      } catch (err) {
        if (signal.aborted) break;
        metrics.errors.inc({ error_type: 'tick' });
        warn('tick', { err: errorMessage(err) }, 'twin tick failed');
      }
    }
  }

  return {
    name: 'lab.twin',
    engine,
    scenario,
    config,
    state: () => engine.state(),
    step,
    runFor,
    intendedFlowBytes: () => intended,
    incidentSchedule: () => engine.incidentSchedule(),
    sentDatagrams: () => datagramsSent,
    finished: () => finished,
    async flushBilling() {
      const files = billing ? billing.flush(engine.time, true) : [];
      for (const f of files) if (sinks.onBillingFile) await sinks.onBillingFile(f);
      return files;
    },
    async start() {
      if (config.mode === 'drive' && !(deps.clock instanceof SimulatedClock)) {
        throw new ConfigError(['lab.twin.mode: "drive" needs a SimulatedClock (use "follow" with a real clock)']);
      }
      await openSockets();
      subscribe();
      loop = loops.track('tick', run);
      log.info({ scenario: scenario.name, seed: scenario.seed, mode: config.mode }, 'twin started');
    },
    health: () => loops.health(),
    stop: memoizeStop(async () => {
      loops.stopping();
      abort.abort(new Error('twin stopped'));
      await loop;
      for (const u of unsubscribe) u();
      for (const s of sockets.values()) await new Promise<void>((r) => s.close(() => r()));
      sockets.clear();
    }),
  };
}
