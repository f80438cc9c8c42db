/**
 * The composition root: builds the shared adapters once (bus, store, queue, registry, logger, clock)
 * and the components of the roles asked for, in dependency order; starts them in order and stops
 * them in reverse. `pathpilot start <roles…>` and `pathpilot demo` both go through here.
 */
import { RealClock, SimulatedClock, type Clock } from '../core/clock.ts';
import { settlingBus, settlingQueue } from '../core/settling.ts';
import { startAll, memoizeStop, StatusBoard, type Component, type LoopFailure, type OnFatal } from '../core/component.ts';
import { loadConfig, Topology, type LoadedConfig } from '../core/config/index.ts';
import type { Bus } from '../core/bus/types.ts';
import type { Store } from '../core/store/types.ts';
import type { Queue } from '../core/queue/types.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { ConfigError, PathpilotError } from '../core/errors.ts';
import type { VyosLab } from '../lab/vyos/index.ts';
import type { ConsoleActuator } from './console/routes.ts';

export const roleNames = ['ingest', 'sink', 'optimizer', 'actuator', 'api'] as const;
export type RoleName = (typeof roleNames)[number];

export interface RuntimeOptions {
  /** A loaded configuration; default: `loadConfig(configFile)`. */
  config?: LoadedConfig;
  configFile?: string;
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The adapters to build (default: all; `start` builds those of its roles, adaptersFor). */
  adapters?: readonly AdapterName[];
}

/** The adapters every role shares. */
export interface Shared {
  config: LoadedConfig;
  topology: Topology;
  clock: Clock;
  log: Logger;
  registry: Registry;
  bus: Bus;
  store: Store;
  queue: Queue;
  /** The adapters built; the others throw when used. */
  adapters: readonly AdapterName[];
  env: NodeJS.ProcessEnv;
  /**
   * Roles built in this process that others read in place: the actuator role registers itself here
   * (buildActuatorRole) and the demo its emulated routers, so the API's console lists and decides
   * through them instead of reading the store.
   */
  inProcess: InProcessRoles;
  /** Hears background loops die (components get `supervisor.onFatal`) and reports every component's status. */
  supervisor: Supervisor;
}

/**
 * The process's supervisor: `onFatal` is handed to every component that runs a background loop;
 * the first death resolves `fatal`, and runUntilSignal then stops everything and exits non-zero.
 * `status` follows startAll and answers `/healthz` and `/readyz`.
 */
export class Supervisor {
  readonly status = new StatusBoard();
  readonly fatal: Promise<LoopFailure>;
  private failure: LoopFailure | undefined;
  private report!: (failure: LoopFailure) => void;

  constructor() {
    this.fatal = new Promise((resolve) => (this.report = resolve));
  }

  readonly onFatal: OnFatal = (failure) => {
    this.failure ??= failure;
    this.report(failure);
  };

  /** The first loop that died, if any. */
  failed(): LoopFailure | undefined {
    return this.failure;
  }
}

export interface InProcessRoles {
  actuator?: ConsoleActuator;
  lab?: VyosLab;
}

/** The service adapters a process may hold. */
export const adapterNames = ['bus', 'store', 'queue'] as const;
export type AdapterName = (typeof adapterNames)[number];

/**
 * The adapters each role uses; a process builds only those of its roles. The API reads the store
 * (console, access log, health); its other routes come from the roles that serve them.
 */
export const adaptersOfRole: Readonly<Record<RoleName, readonly AdapterName[]>> = {
  ingest: ['bus'],
  sink: ['bus', 'store'],
  optimizer: ['bus', 'store', 'queue'],
  actuator: ['bus', 'store', 'queue'],
  api: ['store'],
};

/** The adapters the given roles use. */
export function adaptersFor(roles: readonly RoleName[]): AdapterName[] {
  return adapterNames.filter((a) => roles.some((r) => adaptersOfRole[r].includes(a)));
}

/**
 * An adapter this process did not build: any use names it, instead of a role quietly connecting
 * to a service its process was not configured to hold (adaptersOfRole is then missing an entry).
 */
function notBuilt<T extends object>(name: AdapterName): T {
  return new Proxy({} as T, {
    get(_target, key) {
      throw new PathpilotError(
        'PP_ERR_SERVICE',
        `this process has no ${name} (adapter not built for its roles; asked for ${String(key)})`,
      );
    },
  });
}

/**
 * Builds the shared adapters. Each adapter's module (with its client library: kafkajs, bullmq and
 * ioredis, @clickhouse/client) is loaded only when the adapter is asked for — `start ingest` holds
 * the bus alone, ~30 MB less than all three (docs/notes/ingest-flow.md, "Memory").
 */
export async function createShared(options: RuntimeOptions = {}): Promise<Shared> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(options.configFile, env);
  const log = options.log ?? createLogger();
  const clock = options.clock ?? new RealClock();
  const registry = createRegistry({ defaultMetrics: true });
  const services = config.root.services;
  const wanted = new Set<AdapterName>(options.adapters ?? adapterNames);
  // On a simulated clock the bus and queue report their work, so a lockstep run waits for it.
  const simulated = clock instanceof SimulatedClock ? clock : undefined;
  const buildBus = async (): Promise<Bus> => {
    const bus = (await import('../core/bus/index.ts')).createBus(services.bus, {
      log: log.child({ component: 'bus' }),
      registry,
      clock,
    });
    return simulated ? settlingBus(bus, simulated.activity) : bus;
  };
  const buildQueue = async (): Promise<Queue> => {
    const { createQueue } = await import('../core/queue/index.ts');
    const queue = createQueue(services.queue, { log: log.child({ component: 'queue' }), registry, clock });
    return simulated ? settlingQueue(queue, simulated.activity) : queue;
  };
  const buildStore = async (): Promise<Store> =>
    (await import('../analytics/schema/cluster.ts')).analyticsStore(config, { log: log.child({ component: 'store' }) });
  return {
    config,
    topology: new Topology(config.root),
    clock,
    log,
    registry,
    bus: wanted.has('bus') ? await buildBus() : notBuilt('bus'),
    store: wanted.has('store') ? await buildStore() : notBuilt('store'),
    queue: wanted.has('queue') ? await buildQueue() : notBuilt('queue'),
    adapters: adapterNames.filter((a) => wanted.has(a)),
    env,
    inProcess: {},
    supervisor: new Supervisor(),
  };
}

/** The adapters the process built, as components, so they start first and stop last. */
export function adapterComponents(shared: Shared): Component[] {
  const all: Record<AdapterName, Component> = {
    bus: { name: 'bus', start: () => shared.bus.start(), stop: memoizeStop(() => shared.bus.stop()) },
    store: {
      name: 'store',
      start: () => shared.store.start(),
      stop: memoizeStop(() => shared.store.stop()),
      ready: async () => ((await shared.store.ping()) ? { ok: true } : { ok: false, detail: 'ping failed' }),
    },
    queue: { name: 'queue', start: () => shared.queue.start(), stop: memoizeStop(() => shared.queue.stop()) },
  };
  return shared.adapters.map((a) => all[a]);
}

export function parseRoles(args: readonly string[]): RoleName[] {
  const roles = args.length === 0 ? [...roleNames] : args;
  for (const r of roles) {
    if (!(roleNames as readonly string[]).includes(r))
      throw new ConfigError([`unknown role "${r}" (roles: ${roleNames.join(', ')})`]);
  }
  return [...new Set(roles)] as RoleName[];
}

/**
 * Starts components in order (the supervisor's status board watching them) and runs until SIGINT/SIGTERM
 * (exit code 0) or until a background loop dies (exit code 1); either way every component stops, in
 * reverse order. Returns the exit code.
 */
export async function runUntilSignal(components: Component[], log: Logger, supervisor = new Supervisor()): Promise<number> {
  supervisor.status.watch(components);
  const stop = await startAll(components, supervisor.status);
  const code = await untilSignalOrFatal(supervisor, log);
  await stop();
  return code;
}

/** Waits for SIGINT/SIGTERM (0) or the first background loop death (1), logging which it was. */
export async function untilSignalOrFatal(supervisor: Supervisor, log: Logger): Promise<number> {
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const ended = await Promise.race([
    signalled.then((signal) => ({ signal }) as const),
    supervisor.fatal.then((failure) => ({ failure }) as const),
  ]);
  if (onSignal) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if ('signal' in ended) {
    log.info({ signal: ended.signal }, 'stopping');
    return 0;
  }
  log.fatal(ended.failure, `stopping: background loop ${ended.failure.component}/${ended.failure.loop} died`);
  return 1;
}
