import { describe, expect, it } from 'vitest';
import type { WindowQuality } from '../analytics/queries/types.ts';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { faultyLinks, observePaths } from './faults.ts';
import type { GuardData } from './guard/index.ts';
import { findBreaches } from './healer.ts';
import { localizeFaults } from './localize.ts';

const topology = new Topology(loadConfig(undefined, {}).root);
const now = Date.UTC(2026, 0, 5, 12);
const window = 5 * 60_000;

/** Every path's window quality with `loss` per link (and its primary onprem-fra → azure-weu path failing its SLO). */
function guardData(loss: Record<string, number>): GuardData {
  const quality = new Map<string, WindowQuality>();
  for (const [from, to] of topology.pairs())
    for (const p of topology.pathsFor(from, to)) {
      const delivered = p.links.reduce((d, l) => d * (1 - (loss[l] ?? 0)), 1);
      const rtt = p.id === 'onprem-fra.azure-weu.1' ? 400 : 30;
      quality.set(`${p.id}|*`, {
        rtt_p50_ms: rtt,
        rtt_p95_ms: rtt,
        loss_ratio: 1 - delivered,
        jitter_ms: 1,
        windows: 5,
        sent: 600,
      });
    }
  return { compare: () => Promise.reject(new Error('not used')), qualityByPath: async () => quality };
}

describe('fault localization on the guard data', () => {
  it('names the lossy interconnect from every path probe, and the self-heal avoids every path over it', async () => {
    const data = guardData({ 'fra-euc1-dx': 0.2 });
    const obs = (await observePaths(topology, data, now, window))!;
    expect(obs.length).toBe([...topology.pairs()].reduce((n, [f, t]) => n + topology.pathsFor(f, t).length, 0));
    const result = localizeFaults(obs);
    expect(result.findings[0]).toMatchObject({ links: ['fra-euc1-dx'] });
    expect(result.findings[0]!.loss).toBeCloseTo(0.2, 1);
    const avoid = faultyLinks(result);
    expect([...avoid]).toEqual(['fra-euc1-dx']);

    // onprem-fra → azure-weu's primary breaks its SLO: the alternative over fra-euc1-dx probes clean enough
    // for this class, but it crosses the faulty link.
    const healthy = async (links: ReadonlySet<string>) =>
      (await findBreaches(topology, guardData({}), now, window, undefined, undefined, links))
        .filter((b) => b.pair.join('>') === 'onprem-fra>azure-weu')
        .map((b) => b.healthy);
    const before = await healthy(new Set());
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((h) => h.includes('onprem-fra.azure-weu.3'))).toBe(true);
    const after = await healthy(avoid);
    expect(after.length).toBe(before.length);
    for (const h of after) expect(h).toEqual(['onprem-fra.azure-weu.2']);
  });

  it('names nothing on a clean network', async () => {
    const result = localizeFaults((await observePaths(topology, guardData({}), now, window))!);
    expect(faultyLinks(result).size).toBe(0);
  });
});
