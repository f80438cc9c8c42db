/**
 * The actuator role as the demo, `pathpilot start` and the console see it: the actuator component,
 * a bridge from the optimizer's proposal queue to the actuator's approval flow, and the current
 * split the optimizer plans against (from the last confirmed path-weight intents).
 */
import type { Component } from '../core/component.ts';
import { memoizeStop } from '../core/component.ts';
import type { RoutePlugin } from '../core/http/server.ts';
import { pairKey } from '../core/config/topology.ts';
import { proposalQueueName, proposalSchema, type Proposal } from '../core/proposal.ts';
import type { QueueWorker } from '../core/queue/types.ts';
import { UnrecoverableError, errorMessage } from '../core/errors.ts';
import type { CurrentWeights } from '../optimizer/data.ts';
import { createActuator, actuatorRoutes, guardDataFromStore, type Actuator } from '../actuator/index.ts';
import { slackRoleMapFromConfig } from '../actuator/slack-access.ts';
import { RedisReplayCache } from '../core/http/replay.ts';
import { vyosClientForSite } from '../actuator/vyos/index.ts';
import type { RouterApi } from '../actuator/vyos/types.ts';
import type { VyosLab } from '../lab/vyos/index.ts';
import type { Shared } from './runtime.ts';

export interface ActuatorEvent {
  time: number;
  proposal_id: string;
  event: string;
  actor?: string;
  router?: string;
  detail?: unknown;
}

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
  counts(): { proposals: number; applied: number; rolled_back: number };
}

export function buildActuatorRole(shared: Shared, options: { labRouters?: VyosLab } = {}): ActuatorRole {
  const { root } = shared.config;
  const clients = new Map<string, RouterApi>();
  const routerFor = (site: string): RouterApi => {
    let client = clients.get(site);
    if (!client) {
      const cfg = shared.topology.site(site);
      // The lab's emulators use self-signed certificates only when TLS is on; the demo runs them on HTTP.
      client = vyosClientForSite(cfg, { env: shared.env, ...(options.labRouters ? { url: options.labRouters.urls[site] } : {}) });
      clients.set(site, client);
    }
    return client;
  };
  const actuator = createActuator(
    {
      root,
      queue: shared.queue,
      clock: shared.clock,
      routerFor,
      guardData: guardDataFromStore(shared.store),
      bus: shared.bus,
      log: shared.log.child({ component: 'actuator' }),
      registry: shared.registry,
      env: shared.env,
    },
    shared.config.source.data.actuator ?? {},
  );

  const totals = { proposals: 0, applied: 0, rolled_back: 0 };
  actuator.events.on('change', (event: { event?: string }) => {
    if (event.event === 'proposed') totals.proposals++;
    else if (event.event === 'confirmed') totals.applied++;
    else if (event.event === 'rolled-back') totals.rolled_back++;
  });

  // Proposals the optimizer queued become approval requests (idempotent: the actuator keys them by id).
  let worker: QueueWorker | undefined;
  const bridge: Component = {
    name: 'actuator.proposals',
    async start() {
      worker = await shared.queue.process<unknown, string>(proposalQueueName, async (data) => {
        const parsed = proposalSchema.safeParse(data);
        if (!parsed.success) throw new UnrecoverableError(`invalid proposal on ${proposalQueueName}: ${parsed.error.message}`);
        const existing = await actuator.get(parsed.data.id);
        if (existing) return existing.proposal.status;
        const rec = await actuator.submit(parsed.data, 'optimizer');
        return rec.proposal.status;
      });
    },
    stop: memoizeStop(async () => {
      await worker?.close();
    }),
  };

  const role: ActuatorRole = {
    components: [actuator, bridge],
    routes: actuatorRoutes(actuator, {
      slackRoles: slackRoleMapFromConfig(root.slack, shared.env),
      // Several API processes need a queue on Redis anyway; Slack replays are refused through it too.
      ...(root.services.queue.kind === 'bullmq' && root.services.queue.redis_url
        ? { replay: new RedisReplayCache(root.services.queue.redis_url, `${root.services.queue.prefix}:slack-replay`) }
        : {}),
      log: shared.log.child({ component: 'api' }),
    }),
    actuator,
    list: async () => (await actuator.list()).map((r) => r.proposal),
    approve: async (id, actor) => {
      await actuator.approve(id, actor);
    },
    reject: async (id, actor) => {
      await actuator.reject(id, actor);
    },
    events: async (limit = 200) =>
      actuator
        .changes()
        .slice(-limit)
        .map((e) => ({
          time: e.time,
          proposal_id: e.proposal_id,
          event: e.event,
          ...(e.actor ? { actor: e.actor } : {}),
          ...(e.router ? { router: e.router } : {}),
          ...(e.detail ? { detail: safeJson(e.detail) } : {}),
        })),
    currentWeights: async () => {
      const weights: CurrentWeights = new Map();
      const confirmed = (await actuator.list())
        .map((r) => r.proposal)
        .filter((p) => p.status === 'confirmed')
        .sort((a, b) => a.created_at - b.created_at);
      for (const p of confirmed) {
        for (const intent of p.intents) {
          if (intent.kind === 'path-weights') {
            const [from, to] = intent.pair;
            const total = Object.values(intent.weights).reduce((a, b) => a + b, 0);
            if (total <= 0) continue;
            const split: Record<string, number> = {};
            for (const path of shared.topology.pathsFor(from, to)) {
              const w = intent.weights[path.links[0]!];
              if (w) split[path.id] = w / total;
            }
            // A shared WAN rule ('*') carries every class that policy routing does not pin.
            const classes = intent.class === '*' ? root.classes.filter((c) => !c.pin).map((c) => c.id) : [intent.class];
            for (const cls of classes) weights.set(`${pairKey(from, to)}|${cls}`, split);
          } else if (intent.kind === 'class-pin') {
            const [from, to] = intent.pair;
            const path = shared.topology.pathsFor(from, to).find((x) => x.links[0] === intent.link);
            if (path) weights.set(`${pairKey(from, to)}|${intent.class}`, { [path.id]: 1 });
          }
        }
      }
      return weights;
    },
    counts: () => ({ ...totals }),
  };
  // The API's console lists and decides through this role when both run in one process.
  shared.inProcess.actuator = role;
  return role;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return { unparsed: text, error: errorMessage(err) };
  }
}
