/**
 * The actuator role as the demo, `pathpilot start` and the console see it: the actuator component
 * (which is also the one consumer of the optimizer's proposal queue, and knows the current split the
 * optimizer plans against), its REST routes, and counts for the demo's summary.
 */
import { redactSecrets } from '../core/redact.ts';
import { sectionOf, type Component } from '../core/component.ts';
import type { RoutePlugin } from '../core/http/server.ts';
import type { Proposal } from '../core/proposal.ts';
import type { CurrentWeights } from '../optimizer/data.ts';
import {
  createActuator,
  actuatorRoutes,
  guardDataFromStore,
  realizedDataFromStore,
  riskDataFromStore,
  storeProposalRecorder,
  type Actuator,
} from '../actuator/index.ts';
import { slackRoleMapFromConfig } from '../actuator/slack-access.ts';
import { RedisReplayCache } from '../core/http/replay.ts';
import { siteClientsFromConfig } from '../actuator/site-clients.ts';
import type { VyosLab } from '../lab/vyos/index.ts';
import { forwardVerdict } from '../lab/vyos/firewall-eval.ts';
import type { Shared } from './runtime.ts';
import { toConsoleEvent } from './console/events.ts';
import type { ConsoleCounts, ConsoleEvent, ConsoleTunnels, ConsoleCompliance, ConsoleFaults } from './console/types.ts';

/** One audit event as the role lists it (the console's shape). */
export type ActuatorEvent = ConsoleEvent;

export interface ActuatorRole {
  components: Component[];
  /** REST routes (approve/reject/list, Slack interactivity). */
  routes: RoutePlugin;
  readonly actuator: Actuator;
  list(): Promise<Proposal[]>;
  approve(id: string, actor: string): Promise<void>;
  reject(id: string, actor: string): Promise<void>;
  /** Audit events, newest last. */
  events(limit?: number): Promise<ActuatorEvent[]>;
  /** What the routers run now, as the optimizer's demand split (from the last confirmed intents). */
  currentWeights(): Promise<CurrentWeights>;
  counts(): ConsoleCounts;
  /** The tunnels as the actuator's tunnel watch last saw them. */
  tunnels(): ConsoleTunnels;
  /** Each router's compliance as the actuator's compliance watch last checked it. */
  compliance(): ConsoleCompliance;
  /** The links the self-heal last localized at fault. */
  faults(): ConsoleFaults;
}

export function buildActuatorRole(shared: Shared, options: { labRouters?: VyosLab } = {}): ActuatorRole {
  const { root } = shared.config;
  // Keys pathpilot rotated (actuator.router_keys.store) replace the environment's; commits wait the
  // actuator's commit timeout, reads keep the client's shorter one.
  const { routerFor, routerKeys } = siteClientsFromConfig(shared.config, shared.env, {
    topology: shared.topology,
    // The lab's emulators use self-signed certificates only when TLS is on; the demo runs them on HTTP.
    ...(options.labRouters ? { urlOf: (site: string) => options.labRouters!.urls[site] } : {}),
  });
  const actuator = createActuator(
    {
      root,
      queue: shared.queue,
      clock: shared.clock,
      routerFor,
      guardData: guardDataFromStore(shared.store),
      realizedData: realizedDataFromStore(shared.store),
      // The pre-change risk assessment: live conversations from ClickHouse, judged by the emulator's
      // model of the forward chain (nftables' semantics) before and after each change.
      riskData: riskDataFromStore(shared.store),
      forwardVerdict: (config, packet, at, tz) => forwardVerdict(config, packet, at, tz).action,
      ...(routerKeys ? { routerKeys } : {}),
      bus: shared.bus,
      log: shared.log.child({ component: 'actuator' }),
      registry: shared.registry,
      env: shared.env,
      // Status transitions land in ClickHouse's proposals table, beside what the optimizer records there.
      recorder: storeProposalRecorder(shared.store),
      onFatal: shared.supervisor.onFatal,
    },
    sectionOf(shared.config.source, 'actuator'),
  );

  // Proposals, not events: a rollback writes one `rolled-back` event per router it restores.
  const seen: Record<string, Set<string>> = { proposed: new Set(), confirmed: new Set(), 'rolled-back': new Set() };
  actuator.events.on('change', (event: { event?: string; proposal_id?: string }) => {
    if (event.event !== undefined && event.proposal_id !== undefined) seen[event.event]?.add(event.proposal_id);
  });

  const role: ActuatorRole = {
    components: [actuator],
    routes: actuatorRoutes(actuator, {
      slackRoles: slackRoleMapFromConfig(root.slack, shared.env),
      // Several API processes need a queue on Redis anyway; Slack replays are refused through it too.
      ...(root.services.queue.kind === 'bullmq' && root.services.queue.redis_url
        ? { replay: new RedisReplayCache(root.services.queue.redis_url, `${root.services.queue.prefix}:slack-replay`) }
        : {}),
      log: shared.log.child({ component: 'api' }),
    }),
    actuator,
    // The console shows intents to viewers: secrets in them are redacted.
    list: async () => (await actuator.list()).map((r) => redactSecrets(r.proposal)),
    approve: async (id, actor) => {
      await actuator.approve(id, actor);
    },
    reject: async (id, actor) => {
      await actuator.reject(id, actor);
    },
    events: async (limit = 200) => actuator.changes().slice(-limit).map(toConsoleEvent),
    currentWeights: () => actuator.currentWeights(),
    tunnels: () => actuator.service.tunnels(),
    compliance: () => actuator.service.compliance(),
    faults: () => actuator.service.faults(),
    counts: () => ({
      proposals: seen['proposed']!.size,
      applied: seen['confirmed']!.size,
      rolled_back: seen['rolled-back']!.size,
    }),
  };
  // The API's console lists and decides through this role when both run in one process.
  shared.inProcess.actuator = role;
  return role;
}
