/**
 * The composition root: builds the shared adapters once (bus, store, queue, registry, logger, clock)
 * and the components of the roles asked for, in dependency order; starts them in order and stops
 * them in reverse. `pathpilot start <roles…>` and `pathpilot demo` both go through here.
 */
import { analyticsStore } from '../analytics/schema/cluster.ts';
import { randomBytes } from 'node:crypto';
import { RealClock, SimulatedClock, type Clock } from '../core/clock.ts';
import { settlingBus, settlingQueue } from '../core/settling.ts';
import { startAll, memoizeStop, StatusBoard, type Component, type LoopFailure, type OnFatal } from '../core/component.ts';
import { loadConfig, Topology, type LoadedConfig } from '../core/config/index.ts';
import { createBus } from '../core/bus/index.ts';
import { createQueue } from '../core/queue/index.ts';
import type { Bus } from '../core/bus/types.ts';
import type { Store } from '../core/store/types.ts';
import type { Queue } from '../core/queue/types.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { createHttpServer, type RoutePlugin, type HealthCheck } from '../core/http/server.ts';
import { ChainAuthenticator, TokenAuthenticator, type Authenticator } from '../core/http/auth.ts';
import type { ApiConfig } from '../core/http/api-config.ts';
import { ClientCertAuthenticator } from '../core/http/client-cert.ts';
import { OidcAuthenticator } from '../core/http/oidc.ts';
import { ConfigError } from '../core/errors.ts';
import type { VyosLab } from '../lab/vyos/index.ts';
import { consoleRoutes, type ConsoleActuator } from './console/routes.ts';
import { batchedAccessLog } from '../core/http/access-log.ts';
import { errorMessage } from '../core/errors.ts';
import { saveAccessEntries } from '../analytics/queries/writes.ts';

export const roleNames = ['ingest', 'sink', 'optimizer', 'actuator', 'api'] as const;
export type RoleName = (typeof roleNames)[number];

export interface RuntimeOptions {
  /** A loaded configuration; default: `loadConfig(configFile)`. */
  config?: LoadedConfig;
  configFile?: string;
  clock?: Clock;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
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

export function createShared(options: RuntimeOptions = {}): Shared {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig(options.configFile, env);
  const log = options.log ?? createLogger();
  const clock = options.clock ?? new RealClock();
  const registry = createRegistry({ defaultMetrics: true });
  const services = config.root.services;
  const bus = createBus(services.bus, { log: log.child({ component: 'bus' }), registry, clock });
  const queue = createQueue(services.queue, { log: log.child({ component: 'queue' }), registry, clock });
  // On a simulated clock the bus and queue report their work, so a lockstep run waits for it.
  const simulated = clock instanceof SimulatedClock ? clock : undefined;
  return {
    config,
    topology: new Topology(config.root),
    clock,
    log,
    registry,
    bus: simulated ? settlingBus(bus, simulated.activity) : bus,
    store: analyticsStore(config, { log: log.child({ component: 'store' }) }),
    queue: simulated ? settlingQueue(queue, simulated.activity) : queue,
    env,
    inProcess: {},
    supervisor: new Supervisor(),
  };
}

/** The adapters as components, so they start first and stop last. */
export function adapterComponents(shared: Shared): Component[] {
  return [
    { name: 'bus', start: () => shared.bus.start(), stop: memoizeStop(() => shared.bus.stop()) },
    {
      name: 'store',
      start: () => shared.store.start(),
      stop: memoizeStop(() => shared.store.stop()),
      ready: async () => ((await shared.store.ping()) ? { ok: true } : { ok: false, detail: 'ping failed' }),
    },
    { name: 'queue', start: () => shared.queue.start(), stop: memoizeStop(() => shared.queue.stop()) },
  ];
}

/**
 * API tokens from `PATHPILOT_API_TOKENS` (`role:name:token,…`). Without it, one admin token is made up
 * for this process and returned so the caller can print it once (the demo puts it in the console URL).
 */
export function apiAuthenticator(
  env: NodeJS.ProcessEnv,
  api?: Pick<ApiConfig, 'oidc' | 'tls'>,
  log?: Logger,
): { auth: Authenticator; generated?: string } {
  // OIDC tokens (when an issuer is configured) are tried after the static ones; a verified client
  // certificate names a caller that sent no token (api.tls.client_roles).
  const oidc = api?.oidc;
  const certRoles = api?.tls.client_roles;
  const withOidc = (tokens: TokenAuthenticator): Authenticator => {
    const chain: Authenticator[] = [tokens];
    if (oidc?.issuer) chain.push(new OidcAuthenticator(oidc, log));
    if (certRoles && Object.values(certRoles).some((l) => l.length > 0)) chain.push(new ClientCertAuthenticator(certRoles));
    return chain.length === 1 ? tokens : new ChainAuthenticator(chain);
  };
  if (env.PATHPILOT_API_TOKENS) return { auth: withOidc(TokenAuthenticator.fromSpec(env.PATHPILOT_API_TOKENS)) };
  const token = randomBytes(18).toString('base64url');
  return { auth: withOidc(TokenAuthenticator.fromSpec(`admin:local-admin:${token}`)), generated: token };
}

export interface ApiOptions {
  host?: string;
  port?: number;
  plugins: RoutePlugin[];
  health?: HealthCheck[];
  /** Mount the web console (default true). */
  console?: boolean;
}

/**
 * The API server: health, metrics, the given route plugins and the web console. The console is built
 * when the server starts, after every role of the process is built, so it finds the actuator role
 * (and the demo's routers) in `shared.inProcess`; without the actuator it reads the store.
 */
export function createApi(shared: Shared, auth: Authenticator, options: ApiOptions) {
  const plugins = [...options.plugins];
  if (options.console !== false)
    plugins.push((app, deps) =>
      consoleRoutes({ shared, actuator: shared.inProcess.actuator, lab: shared.inProcess.lab })(app, deps),
    );
  return createHttpServer(
    {
      registry: shared.registry,
      auth,
      log: shared.log.child({ component: 'api' }),
      health: options.health ?? [],
      status: shared.supervisor.status,
      // Every call (who, from where, what, verdict) into ClickHouse's api_access.
      accessLog: batchedAccessLog((entries) => saveAccessEntries(shared.store, entries), {
        onError: (err, dropped) => shared.log.warn({ err: errorMessage(err), dropped }, 'API access log entries not written'),
      }),
    },
    { host: options.host ?? '127.0.0.1', port: options.port ?? 8080, tls: shared.config.root.api.tls },
    plugins,
  );
}

/** Standard health checks over the shared adapters. */
export function adapterHealth(shared: Shared): HealthCheck[] {
  return [{ name: 'store', check: () => shared.store.ping() }];
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
