/**
 * The actuator component, on the one component contract (core/component.ts): `createActuator(deps, section)`
 * parses its own section once (only ConfigError, naming the key), builds and does no I/O; `start()` opens
 * the state store, starts the queue consumers (intake, rollout) and resumes in-flight rollouts; background
 * loops (self-heal, resume sweep) run under the contract's `LoopTracker`; `stop()` is idempotent. What
 * `npm start` needs: submit(proposal), approve(id, actor), reject(id, actor), list(), currentWeights(),
 * and `events` for the console.
 *
 * Active/standby (core/leader.ts): with a shared (Redis) state store the actuators of a deployment elect
 * one leader. Only the leader runs the service (queue consumers, watches, rollouts, the resume of what a
 * dead leader left); the others answer reads and take decisions (the leader applies them). Every router
 * write first checks the leader's epoch in the store (`fenceRouter`), and a leader takes over the rollout
 * leases its predecessors held. Leadership lost: the service stops at once and the process stands by.
 */
import type { Bus } from '../core/bus/types.ts';
import type { Clock } from '../core/clock.ts';
import type { RootConfig } from '../core/config/schema.ts';
import { Topology } from '../core/config/topology.ts';
import { memoizeStop, parseSection, type OnFatal } from '../core/component.ts';
import { createLeadership } from '../core/leader.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import type { Queue } from '../core/queue/types.ts';
import { actuatorConfigSchema, type ActuatorConfig } from './config.ts';
import type { ProposalRecorder } from './pipeline/recorder.ts';
import type { GuardData } from './guard/index.ts';
import { createActuatorMetrics } from './metrics.ts';
import type { RealizedData } from './realized-measure.ts';
import { fenceRouter } from './lease.ts';
import { ActuatorService } from './service.ts';
import { MemoryStateStore, RedisStateStore, type StateStore } from './state.ts';
import type { RouterApi } from './vyos/types.ts';
import type { Actuator } from './types.ts';
import type { OverlayState, TunnelLoss } from './tunnels/overlay-state.ts';
import type { RiskData } from './pipeline/deps.ts';
import type { ForwardVerdict } from './security/risk.ts';
import type { RouterKeyring } from './security/router-keys.ts';

export { actuatorConfigSchema, type ActuatorConfig } from './config.ts';
export { ActuatorService, type AuditEvent } from './service.ts';
export { MemoryStateStore, RedisStateStore, type ProposalRecord, type StateStore } from './state.ts';
export { guardDataFromStore, type GuardData, type GuardVerdict } from './guard/index.ts';
export { realizedDataFromStore, type RealizedData } from './realized-measure.ts';
export { riskDataFromStore } from './security/risk-data.ts';
export { RouterKeyStore } from './security/router-keys.ts';
export type { RouterKeyring } from './security/router-keys.ts';
export { actuatorRoutes } from './api.ts';
export { storeProposalRecorder, memoryProposalRecorder, type ProposalRecorder } from './pipeline/recorder.ts';
export { writeRouterConfig } from './pipeline/gitops.ts';
export type { CurrentWeights } from './current-weights.ts';
export type { Actuator } from './types.ts';

export interface ActuatorDeps {
  root: RootConfig;
  queue: Queue;
  clock: Clock;
  /** The router API per site id (VyosClient in production, the same client against the lab). */
  routerFor: (site: string) => RouterApi;
  guardData?: GuardData;
  /** Where applied proposals' realized effect is measured (`realizedDataFromStore(store)` in the roles). */
  realizedData?: RealizedData;
  bus?: Bus;
  log?: Logger;
  registry?: Registry;
  env?: NodeJS.ProcessEnv;
  /** Replaces the configured state store (tests). */
  state?: StateStore;
  retryClock?: Clock;
  /** Where proposal status transitions are recorded (`storeProposalRecorder(store)` in the roles). */
  recorder?: ProposalRecorder;
  /** Told when a background loop dies (the composition root stops the process). */
  onFatal?: OnFatal;
  /** The overlay the tunnel watch guards (tests; else `tunnels.overlay_dir`). */
  overlay?: OverlayState;
  /** Probe loss across a tunnel over the last window, where probes cross tunnels. */
  tunnelLoss?: TunnelLoss;
  /** Live conversations for the risk assessment (`riskDataFromStore(store)` in the roles). */
  riskData?: RiskData;
  /** The forward-chain model of the reachability diff (the emulator's `forwardVerdict`, from the roles). */
  forwardVerdict?: ForwardVerdict;
  /** The router API keys and their clients (the roles build it from `actuator.router_keys.store`). */
  routerKeys?: RouterKeyring;
}

export function createActuator(deps: ActuatorDeps, section: unknown = {}): Actuator {
  const config: ActuatorConfig = parseSection(actuatorConfigSchema, section, 'actuator');
  if (config.state.kind === 'redis' && !config.state.redis_url && !deps.state)
    throw new ConfigError(['actuator.state.redis_url: required when state.kind is redis']);
  const env = deps.env ?? process.env;
  const state =
    deps.state ??
    (config.state.kind === 'redis' ? new RedisStateStore(config.state.redis_url, config.state.prefix) : new MemoryStateStore());
  const webhookUrl = env[deps.root.slack.webhook_url_env];
  // A memory store is this process's alone: it leads for good. A shared one elects.
  const leadership = createLeadership(
    {
      role: 'actuator',
      store: state instanceof MemoryStateStore ? undefined : state,
      ...(deps.registry ? { registry: deps.registry } : {}),
      ...(deps.log ? { log: deps.log } : {}),
      ...(deps.onFatal ? { onFatal: deps.onFatal } : {}),
    },
    config.leader,
  );
  // Every router write of this process passes only while it leads with its epoch (a deposed leader is refused).
  const routerFor =
    state instanceof MemoryStateStore
      ? deps.routerFor
      : (site: string) => fenceRouter(deps.routerFor(site), () => leadership.check());
  const service = new ActuatorService({
    topology: new Topology(deps.root),
    actuation: deps.root.actuator,
    config,
    queue: deps.queue,
    state,
    clock: deps.clock,
    routerFor,
    leader: leadership,
    metrics: createActuatorMetrics(deps.registry ?? createRegistry()),
    ...(deps.guardData ? { guardData: deps.guardData } : {}),
    ...(deps.realizedData ? { realizedData: deps.realizedData } : {}),
    ...(deps.bus ? { bus: deps.bus } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    ...(webhookUrl ? { slack: { webhookUrl } } : {}),
    ...(deps.retryClock ? { retryClock: deps.retryClock } : {}),
    ...(deps.recorder ? { recorder: deps.recorder } : {}),
    ...(deps.onFatal ? { onFatal: deps.onFatal } : {}),
    ...(deps.overlay ? { overlay: deps.overlay } : {}),
    ...(deps.tunnelLoss ? { tunnelLoss: deps.tunnelLoss } : {}),
    ...(deps.riskData ? { riskData: deps.riskData } : {}),
    ...(deps.forwardVerdict ? { forwardVerdict: deps.forwardVerdict } : {}),
    ...(deps.routerKeys ? { routerKeys: deps.routerKeys } : {}),
  });
  return {
    name: 'actuator',
    service,
    events: service.events,
    slackSigningSecret: env[deps.root.slack.signing_secret_env],
    leadership,
    health: () => {
      const own = service.health();
      return own.ok ? leadership.health() : own;
    },
    async start() {
      await state.start();
      // Leading: the service runs (and resumes what a dead leader left); deposed: it stops at once.
      await leadership.start({ elected: () => service.start(), deposed: () => service.stop() });
    },
    stop: memoizeStop(async () => {
      await leadership.stop();
      await state.stop();
    }),
    submit: (p, actor) => service.submit(p, actor),
    approve: (id, actor, note) => service.approve(id, actor, note),
    reject: (id, actor, note) => service.reject(id, actor, note),
    list: () => service.list(),
    get: (id) => service.get(id),
    changes: (id) => service.changes(id),
    currentWeights: () => service.currentWeights(deps.root.classes),
  };
}
