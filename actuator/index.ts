/**
 * The actuator component: `createActuator(deps, config)` is inert; `start()` opens the state store,
 * starts the queue workers and resumes in-flight rollouts; `stop()` is idempotent. What `npm start`
 * needs: submit(proposal), approve(id, actor), reject(id, actor), list(), and `events` for the console.
 */
import type { Bus } from '../core/bus/types.ts';
import type { Clock } from '../core/clock.ts';
import type { RootConfig } from '../core/config/schema.ts';
import { Topology } from '../core/config/topology.ts';
import { memoizeStop } from '../core/component.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import type { Queue } from '../core/queue/types.ts';
import { actuatorConfigSchema, type ActuatorConfig } from './config.ts';
import type { GuardData } from './guard/index.ts';
import { createActuatorMetrics } from './metrics.ts';
import { ActuatorService } from './service.ts';
import { MemoryStateStore, RedisStateStore, type StateStore } from './state.ts';
import type { RouterApi } from './vyos/types.ts';
import type { Actuator } from './types.ts';

export { actuatorConfigSchema, type ActuatorConfig } from './config.ts';
export { ActuatorService, type AuditEvent } from './service.ts';
export { MemoryStateStore, RedisStateStore, type ProposalRecord, type StateStore } from './state.ts';
export { guardDataFromStore, type GuardData, type GuardVerdict } from './guard/index.ts';
export { actuatorRoutes } from './api.ts';
export type { Actuator } from './types.ts';

export interface ActuatorDeps {
  root: RootConfig;
  queue: Queue;
  clock: Clock;
  /** The router API per site id (VyosClient in production, the same client against the lab). */
  routerFor: (site: string) => RouterApi;
  guardData?: GuardData;
  bus?: Bus;
  log?: Logger;
  registry?: Registry;
  env?: NodeJS.ProcessEnv;
  /** Replaces the configured state store (tests). */
  state?: StateStore;
  retryClock?: Clock;
}

export function createActuator(deps: ActuatorDeps, section: unknown = {}): Actuator {
  const parsed = actuatorConfigSchema.safeParse(section ?? {});
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `actuator.${i.path.join('.')}: ${i.message}`));
  const config: ActuatorConfig = parsed.data;
  if (config.state.kind === 'redis' && !config.state.redis_url && !deps.state)
    throw new ConfigError(['actuator.state.redis_url: required when state.kind is redis']);
  const env = deps.env ?? process.env;
  const state =
    deps.state ??
    (config.state.kind === 'redis' ? new RedisStateStore(config.state.redis_url, config.state.prefix) : new MemoryStateStore());
  const webhookUrl = env[deps.root.slack.webhook_url_env];
  const service = new ActuatorService({
    topology: new Topology(deps.root),
    actuation: deps.root.actuator,
    config,
    queue: deps.queue,
    state,
    clock: deps.clock,
    routerFor: deps.routerFor,
    metrics: createActuatorMetrics(deps.registry ?? createRegistry()),
    ...(deps.guardData ? { guardData: deps.guardData } : {}),
    ...(deps.bus ? { bus: deps.bus } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    ...(webhookUrl ? { slack: { webhookUrl } } : {}),
    ...(deps.retryClock ? { retryClock: deps.retryClock } : {}),
  });
  return {
    name: 'actuator',
    service,
    events: service.events,
    slackSigningSecret: env[deps.root.slack.signing_secret_env],
    async start() {
      await state.start();
      await service.start();
    },
    stop: memoizeStop(async () => {
      await service.stop();
      await state.stop();
    }),
    submit: (p, actor) => service.submit(p, actor),
    approve: (id, actor, note) => service.approve(id, actor, note),
    reject: (id, actor, note) => service.reject(id, actor, note),
    list: () => service.list(),
    get: (id) => service.get(id),
    changes: (id) => service.changes(id),
  };
}
