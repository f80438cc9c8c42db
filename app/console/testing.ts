/**
 * Fixtures for the console: a store seeded with a few hours of probes, interface counters and
 * month-to-date costs for the example topology, a proposal of the optimizer's shape, and an
 * in-memory actuator role. The console's unit and browser tests and its dev server share them;
 * nothing in the product imports this file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import { costRecord, ifaceRecord, probeRecord } from '../../core/records/index.ts';
import { PathpilotError } from '../../core/errors.ts';
import type { Store } from '../../core/store/types.ts';
import type { RootConfig } from '../../core/config/schema.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { Proposal } from '../../core/proposal.ts';
import { migrate } from '../../analytics/schema/index.ts';
import { appendChanges, saveProposal } from '../../analytics/queries/index.ts';
import { createShared, type Shared } from '../runtime.ts';
import type { ActuatorEvent } from '../actuator-role.ts';
import type { ConsoleActuator } from './routes.ts';

const minute = 60_000;
const day = 86_400_000;

/**
 * A Shared over the example config with a simulated clock at `now`: an embedded chDB in a temp dir, or
 * the ClickHouse server at `clickhouseUrl`, in a database of its own.
 */
export async function seededShared(
  now: number,
  env: NodeJS.ProcessEnv = {},
  seed = true,
  clickhouseUrl?: string,
): Promise<Shared> {
  const config = loadConfig(undefined, env);
  const database = `console_${randomBytes(5).toString('hex')}`;
  config.root.services = {
    ...config.root.services,
    bus: { ...config.root.services.bus, kind: 'memory' },
    queue: { ...config.root.services.queue, kind: 'memory' },
    store: clickhouseUrl
      ? { ...config.root.services.store, kind: 'server', url: clickhouseUrl, database }
      : { ...config.root.services.store, kind: 'chdb', path: mkdtempSync(join(tmpdir(), 'pp-console-')), database },
  };
  const shared = await createShared({ config, clock: new SimulatedClock(now), log: createLogger({ level: 'silent' }), env });
  await shared.store.start();
  await migrate(shared.store);
  if (seed) await seedStore(shared.store, shared.topology, config.root, now);
  return shared;
}

/** The path whose realtime p95 RTT breaks the SLO in the last 30 minutes of the seeded data. */
export const breachingPath = 'aws-euc1.azure-weu.1';

export async function seedStore(store: Store, topology: Topology, root: RootConfig, now: number): Promise<void> {
  const end = Math.floor(now / minute) * minute;
  const probes: Record<string, unknown>[] = [];
  for (const path of topology.paths.values()) {
    for (const cls of topology.classes.values()) {
      for (let w = 180; w >= 1; w--) {
        const start = end - w * minute;
        const base = 20 + path.links.length * 15 + (path.priority - 1) * 8;
        const bad = path.id === breachingPath && cls.id === 'realtime' && w <= 30;
        const p95 = bad ? cls.slo.rtt_p95_ms * 1.4 : base * 1.3 + (w % 7);
        probes.push(
          probeRecord.toRow({
            window_start: start,
            window_end: start + minute,
            src_site: path.from,
            dst_site: path.to,
            path_id: path.id,
            class: cls.id,
            sent: 100,
            received: bad ? 97 : 100,
            loss_ratio: bad ? 0.03 : 0,
            rtt_min_ms: base * 0.9,
            rtt_avg_ms: base,
            rtt_p50_ms: base + (w % 5),
            rtt_p95_ms: p95,
            rtt_max_ms: p95 * 1.2,
            jitter_ms: 2 + (w % 3),
          }),
        );
      }
    }
  }
  await store.insert('probes_raw', probes);

  // Interface counters: each link end's output rate is a fixed share of capacity (the a side busier).
  const iface: Record<string, unknown>[] = [];
  root.links.forEach((l, i) => {
    for (const [end_, share] of [
      [l.a, 0.2 + ((i * 0.13) % 0.7)],
      [l.b, 0.1 + ((i * 0.07) % 0.4)],
    ] as const) {
      const bytesPerMin = (l.capacity_mbps * 1e6 * share * 60) / 8;
      for (let m = 90; m >= 0; m--) {
        iface.push(
          ifaceRecord.toRow({
            time: end - m * minute + 30_000 - minute,
            router: end_.site,
            interface: end_.interface,
            link: l.id,
            in_octets: 0,
            out_octets: 1_000_000 + Math.round((90 - m) * bytesPerMin),
            speed_bps: l.capacity_mbps * 1e6,
            source: 'twin',
          }),
        );
      }
    }
  });
  await store.insert('iface_raw', iface);

  // Costs: every day of the month so far, per budgeted provider, on the provider's priciest link.
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const costs: Record<string, unknown>[] = [];
  for (let t = monthStart; t < Math.floor(now / day) * day; t += day) {
    for (const b of root.policy.budgets) {
      if (!b.provider) continue;
      const link = root.links.find(
        (l) => topology.site(l.a.site).provider === b.provider || topology.site(l.b.site).provider === b.provider,
      );
      costs.push(
        costRecord.toRow({
          line_id: `${b.provider}-${t}`,
          usage_start: t,
          usage_end: t + day,
          provider: b.provider,
          category: 'inter-region',
          usage_quantity: 1000,
          usage_unit: 'GB',
          cost: (b.monthly / 30) * (b.provider === 'aws' ? 1.2 : 0.7),
          currency: root.policy.currency,
          ...(link ? { link: link.id } : {}),
          source_format: 'twin',
        }),
      );
    }
  }
  if (costs.length > 0) await store.insert('costs_raw', costs);
}

/**
 * What a process running the optimizer and the actuator leaves in the store for an API-only process:
 * two proposals as the optimizer recorded them, and their audit trail as the sink stored it —
 * `p-remote` awaits a decision, `p-remote-done` was approved by alice and confirmed.
 */
export async function seedRemoteDecisions(shared: Pick<Shared, 'store' | 'topology'>, now: number): Promise<void> {
  const minute = 60_000;
  const open = sampleProposal(shared.topology, 'p-remote', now - 20 * minute);
  const done = sampleProposal(shared.topology, 'p-remote-done', now - 90 * minute, ['onprem-nyc', 'aws-euc1']);
  for (const p of [open, done]) await saveProposal(shared.store, { ...p, status: 'proposed' }, p.created_at);
  await appendChanges(shared.store, [
    { event_id: 'e1', time: now - 20 * minute, proposal_id: 'p-remote', event: 'proposed', actor: 'optimizer' },
    { event_id: 'e2', time: now - 90 * minute, proposal_id: 'p-remote-done', event: 'proposed', actor: 'optimizer' },
    { event_id: 'e3', time: now - 80 * minute, proposal_id: 'p-remote-done', event: 'approved', actor: 'alice' },
    { event_id: 'e4', time: now - 60 * minute, proposal_id: 'p-remote-done', event: 'confirmed' },
  ]);
}

/** A proposal moving `pair`'s bulk traffic to the given split (the shape the optimizer emits). */
export function sampleProposal(
  topology: Topology,
  id: string,
  createdAt: number,
  pair: [string, string] = ['aws-euc1', 'azure-weu'],
): Proposal {
  const paths = topology.pathsFor(pair[0], pair[1]);
  const weights: Record<string, number> = {};
  paths.forEach((p, i) => (weights[p.links[0]!] = i === 0 ? 1 : 3));
  return {
    id,
    created_at: createdAt,
    kind: 'path-weights',
    reason: `Move 75% of ${pair[0]} → ${pair[1]} bulk traffic to cheaper paths with headroom (-41% egress cost).`,
    inputs: { model_versions: { traffic: 'gru-3' }, horizon_min: 60 },
    intents: [
      {
        kind: 'path-weights',
        router: pair[0],
        pair,
        class: 'bulk',
        dst_prefixes: topology.site(pair[1]).prefixes,
        weights,
      },
    ],
    predicted: { cost_per_day: 412, cost_per_day_before: 698, rtt_p95_ms: {}, max_utilization: 0.61, slo_risk: 0.04 },
    risk: 'medium',
    emergency: false,
    scope: [{ pair, class: 'bulk', paths: paths.map((p) => p.id), paths_before: [] }],
    status: 'awaiting-approval',
    history: [{ status: 'awaiting-approval', at: createdAt }],
  };
}

export interface FakeActuator extends ConsoleActuator {
  proposals: Proposal[];
  log: ActuatorEvent[];
  decisions: { id: string; action: 'approve' | 'reject'; actor: string }[];
}

/**
 * An ActuatorRole kept in memory. `onApprove` runs after the status change (the functional test
 * uses it to push the proposal's weights to an emulated router over HTTP).
 */
export function fakeActuator(
  clock: { now(): number },
  proposals: Proposal[],
  onApprove?: (p: Proposal) => Promise<void>,
): FakeActuator {
  const log: ActuatorEvent[] = [];
  const decisions: FakeActuator['decisions'] = [];
  const find = (id: string) => {
    const p = proposals.find((x) => x.id === id);
    if (!p) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal "${id}"`);
    if (p.status !== 'awaiting-approval' && p.status !== 'proposed')
      throw new PathpilotError('PP_ERR_CONFLICT', `proposal "${id}" is ${p.status}, not awaiting approval`);
    return p;
  };
  const mark = (p: Proposal, status: Proposal['status'], event: string, actor?: string, router?: string) => {
    p.status = status;
    p.history.push({ status, at: clock.now(), ...(actor ? { actor } : {}) });
    log.push({ time: clock.now(), proposal_id: p.id, event, ...(actor ? { actor } : {}), ...(router ? { router } : {}) });
  };
  for (const p of proposals) log.push({ time: p.created_at, proposal_id: p.id, event: 'proposed' });
  return {
    proposals,
    log,
    decisions,
    list: async () => proposals.map((p) => structuredClone(p)),
    approve: async (id, actor) => {
      const p = find(id);
      decisions.push({ id, action: 'approve', actor });
      mark(p, 'approved', 'approved', actor);
      if (onApprove) {
        mark(p, 'applying', 'applying', undefined, p.intents[0]?.router);
        await onApprove(p);
        mark(p, 'baking', 'applied', undefined, p.intents[0]?.router);
      }
    },
    reject: async (id, actor) => {
      const p = find(id);
      decisions.push({ id, action: 'reject', actor });
      mark(p, 'rejected', 'rejected', actor);
    },
    events: async (limit = 200) => log.slice(-limit),
    counts: () => ({
      proposals: proposals.length,
      applied: proposals.filter((p) => ['baking', 'confirmed'].includes(p.status)).length,
      rolled_back: proposals.filter((p) => p.status === 'rolled-back').length,
    }),
  };
}
