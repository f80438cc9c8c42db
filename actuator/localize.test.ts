import { describe, expect, it } from 'vitest';
import { localizeFaults, type PathObservation } from './localize.ts';

/**
 * A small mesh: A–B–C in a line plus A–C direct and C–D. Paths (their links): ab, bc, abc (ab+bc), ac,
 * acd (ac+cd), abcd (ab+bc+cd). Every link is crossed by a distinct set of paths except none.
 */
const PATHS: Record<string, string[]> = {
  ab: ['ab'],
  bc: ['bc'],
  abc: ['ab', 'bc'],
  ac: ['ac'],
  acd: ['ac', 'cd'],
  abcd: ['ab', 'bc', 'cd'],
};

/** Probes of every path through links with the given loss (and added delay), `sent` each, deterministic. */
function observe(loss: Record<string, number>, delay: Record<string, number> = {}, sent = 200): PathObservation[] {
  return Object.entries(PATHS).map(([path, links]) => {
    const delivered = links.reduce((d, l) => d * (1 - (loss[l] ?? 0)), 1);
    const added = links.reduce((a, l) => a + (delay[l] ?? 0), 0);
    return { path, links, sent, received: Math.round(sent * delivered), baselineRttP95Ms: 40, rttP95Ms: 40 + added };
  });
}

describe('fault localization', () => {
  it('names nothing on a clean network', () => {
    expect(localizeFaults(observe({}))).toEqual({ bad: [], findings: [], unexplained: [] });
  });

  it('names the one lossy link, with its loss, over the links sharing its paths', () => {
    const r = localizeFaults(observe({ bc: 0.1 }));
    expect(r.bad.sort()).toEqual(['abc', 'abcd', 'bc']);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.links).toEqual(['bc']);
    // ab and cd share lossy paths with it (so neither is cleared), but the loss tomography gives them none.
    expect(r.findings[0]!.confidence).toBeGreaterThan(0.95);
    expect(r.findings[0]!.loss).toBeCloseTo(0.1, 1);
  });

  it('names both links of a double fault, the lossier first', () => {
    const r = localizeFaults(observe({ ac: 0.3, bc: 0.05 }));
    expect(r.findings.map((f) => f.links)).toEqual([['ac'], ['bc']]);
    expect(r.unexplained).toEqual([]);
  });

  it('finds a delay fault from the RTT rises, and names the delay', () => {
    const r = localizeFaults(observe({}, { cd: 50 }));
    expect(r.bad.sort()).toEqual(['abcd', 'acd']);
    expect(r.findings.map((f) => f.links)).toEqual([['cd']]);
    expect(r.findings[0]!.added_ms).toBeCloseTo(50, 0);
  });

  it('names a segment when no probe tells its links apart', () => {
    const obs = observe({ ab: 0.2 }).filter((o) => o.path !== 'ab' && o.path !== 'bc');
    // Without the single-link paths, ab and bc are crossed by the same paths: one segment.
    const r = localizeFaults(obs);
    expect(r.findings.map((f) => f.links)).toEqual([['ab', 'bc']]);
  });

  it('reports a bad path that every clean segment clears as unexplained', () => {
    const obs = observe({});
    obs.find((o) => o.path === 'abc')!.received = 150; // only this path loses: ab and bc carry clean paths
    const r = localizeFaults(obs, { min_loss: 0.2 });
    expect(r.bad).toEqual(['abc']);
    expect(r.unexplained).toEqual(['abc']);
  });
});
