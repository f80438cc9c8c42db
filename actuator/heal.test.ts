import { describe, expect, it } from 'vitest';
import { proposalSchema, type ProposalInput, type ProposalStatus } from '../core/proposal.ts';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { failoverProposal, findBreaches, type Breach } from './healer.ts';
import type { WindowQuality } from '../analytics/queries/types.ts';
import { coolingPairs } from './policy.ts';
import type { ProposalRecord } from './state.ts';

const minute = 60_000;
const record = (id: string, status: ProposalStatus, at: number, emergency: boolean): ProposalRecord => ({
  proposal: proposalSchema.parse({
    id,
    created_at: at - minute,
    kind: emergency ? 'failover' : 'path-weights',
    reason: 'r',
    inputs: {},
    intents: [{ kind: 'bandwidth', router: 'onprem-fra', link: 'fra-euc1-dx', rate_mbps: 10 }],
    predicted: { cost_per_day: 1, max_utilization: 0.5, slo_risk: 0.1 },
    risk: 'medium',
    emergency,
    status,
    history: [{ status, at }],
    scope: [{ pair: ['onprem-fra', 'ali-hk'], class: 'realtime' }],
  } satisfies ProposalInput),
  updatedAt: at,
});

describe('self-heal back-off', () => {
  const now = 100 * minute;
  const cooldown = 30 * minute;
  /** Pairs the self-heal leaves alone at `now`. */
  const recentlyBackedOut = (records: ProposalRecord[], at: number, ms: number) =>
    new Set([...coolingPairs(records, ms, 'emergencies')].filter(([, until]) => until > at).map(([pair]) => pair));
  it('holds back a failover its guard just rolled back (or that failed), until the cool-down is over', () => {
    expect(recentlyBackedOut([record('a', 'rolled-back', now - 5 * minute, true)], now, cooldown)).toEqual(
      new Set(['onprem-fra>ali-hk']),
    );
    expect(recentlyBackedOut([record('a', 'failed', now - 29 * minute, true)], now, cooldown).size).toBe(1);
    expect(recentlyBackedOut([record('a', 'rolled-back', now - 30 * minute, true)], now, cooldown).size).toBe(0);
  });

  it('is not held back by a confirmed failover or by a rolled-back plan', () => {
    expect(recentlyBackedOut([record('a', 'confirmed', now - minute, true)], now, cooldown).size).toBe(0);
    expect(recentlyBackedOut([record('b', 'rolled-back', now - minute, false)], now, cooldown).size).toBe(0);
  });
});

describe('failover proposal', () => {
  const topology = new Topology(loadConfig(undefined, {}).root);
  // onprem-fra → azure-weu: .1 over the degraded ExpressRoute, .2 over the VPN, .3 via aws-euc1.
  const breach = (cls: string, healthy: string[]): Breach => ({
    pair: ['onprem-fra', 'azure-weu'],
    class: cls,
    path: 'onprem-fra.azure-weu.1',
    reasons: [`${cls} broken`],
    healthy,
    carrying: ['onprem-fra.azure-weu.1'],
  });
  const now = Date.UTC(2026, 10, 30, 14, 16);

  it('pins every breaking class of a pinned pair in one proposal, and leaves the classes holding their SLO', () => {
    const p = failoverProposal(
      topology,
      [
        breach('realtime', ['onprem-fra.azure-weu.2']),
        breach('interactive', ['onprem-fra.azure-weu.3', 'onprem-fra.azure-weu.2']),
      ],
      now,
      true,
    );
    expect(p.intents.map((i) => (i.kind === 'class-pin' ? `${i.class}:${i.link}` : i.kind))).toEqual([
      'realtime:fra-weu-vpn',
      'interactive:fra-euc1-dx',
    ]);
    expect(p.scope!.map((s) => [s.class, s.paths, s.paths_before])).toEqual([
      ['realtime', ['onprem-fra.azure-weu.2'], ['onprem-fra.azure-weu.1']],
      ['interactive', ['onprem-fra.azure-weu.3'], ['onprem-fra.azure-weu.1']],
    ]);
    expect(p.id).toBe(`failover-onprem-fra-azure-weu-realtime-interactive-pinned-${Math.floor(now / 60_000)}`);
    expect(p.emergency).toBe(true);
  });

  it('moves a balanced pair with one WAN rule over the paths healthy for every breaking class', () => {
    const p = failoverProposal(
      topology,
      [
        breach('realtime', ['onprem-fra.azure-weu.2', 'onprem-fra.azure-weu.3']),
        breach('interactive', ['onprem-fra.azure-weu.3']),
        // The same class seen breaking on a second carrying path: merged, not proposed twice.
        breach('interactive', ['onprem-fra.azure-weu.3', 'onprem-fra.azure-weu.2']),
      ],
      now,
    );
    expect(p.intents).toEqual([
      {
        kind: 'path-weights',
        router: 'onprem-fra',
        pair: ['onprem-fra', 'azure-weu'],
        class: '*',
        dst_prefixes: topology.site('azure-weu').prefixes,
        weights: { 'fra-euc1-dx': 1 },
      },
    ]);
    expect(p.scope!.map((s) => s.class)).toEqual(['realtime', 'interactive']);
  });
});

describe('self-heal and data residency', () => {
  const root = loadConfig(undefined, {}).root;
  const now = Date.UTC(2026, 0, 5, 12);
  const good: WindowQuality = { rtt_p50_ms: 10, rtt_p95_ms: 12, loss_ratio: 0, jitter_ms: 1, windows: 10, sent: 1000 };
  /** Every path healthy but onprem-fra → azure-weu's primary (over fra-weu-er), which loses half its probes. */
  const data = (topology: Topology) => ({
    compare: () => Promise.reject(new Error('not used')),
    qualityByPath: async () =>
      new Map(
        [...topology.pairs()].flatMap(([f, t]) =>
          topology
            .pathsFor(f, t)
            .map((p) => [`${p.id}|*`, p.id === 'onprem-fra.azure-weu.1' ? { ...good, loss_ratio: 0.5 } : good] as const),
        ),
      ),
  });
  const healthyFor = async (topology: Topology) =>
    (await findBreaches(topology, data(topology), now, 5 * minute))
      .filter((b) => b.pair.join('>') === 'onprem-fra>azure-weu')
      .map((b) => b.healthy);

  it('fails over only onto paths that keep every class within its residency regions', async () => {
    const free = await healthyFor(new Topology(root));
    expect(free.length).toBeGreaterThan(0);
    for (const h of free) expect(h.sort()).toEqual(['onprem-fra.azure-weu.2', 'onprem-fra.azure-weu.3']);
    // Traffic to Azure West Europe stays in eu-central and westeurope: the path through AWS eu-central-1 is no alternative.
    const bound = new Topology({
      ...root,
      policy: {
        ...root.policy,
        residency: [
          {
            name: 'weu-stays',
            classes: [],
            dst_prefixes: [...root.sites.find((s) => s.id === 'azure-weu')!.prefixes],
            regions: ['eu-central', 'westeurope'],
          },
        ],
      },
    });
    const kept = await healthyFor(bound);
    expect(kept.length).toBe(free.length);
    for (const h of kept) expect(h).toEqual(['onprem-fra.azure-weu.2']);
  });
});
