import { describe, expect, it } from 'vitest';
import { proposalSchema, type ProposalInput, type ProposalStatus } from '../core/proposal.ts';
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
