/**
 * Fault localization on the actuator's own probe data: each self-heal pass turns every path's window
 * quality (the guard's `qualityByPath`: probes sent, loss, p95 RTT) and the window before it into path
 * observations and localizes (localize.ts). The findings go to the metrics (`pathpilot_fault_link_*`, which
 * the `PathpilotLinkFault` alert reads), to the console, and back to the self-heal: no failover goes onto
 * a path over a link named faulty with enough confidence.
 */
import type { Gauge } from 'prom-client';
import type { Topology } from '../core/config/topology.ts';
import { gauge, type Registry } from '../core/metrics.ts';
import type { GuardData } from './guard/index.ts';
import type { Localization, PathObservation } from './localize.ts';

/** A finding this confident or more is acted on (self-heal avoids its links) and alerted. */
export const ACT_CONFIDENCE = 0.5;

export interface FaultMetrics {
  confidence: Gauge<'link'>;
  loss: Gauge<'link'>;
  addedMs: Gauge<'link'>;
}

export function createFaultMetrics(registry: Registry): FaultMetrics {
  const p = 'pathpilot_fault_link';
  return {
    confidence: gauge(
      registry,
      `${p}_confidence`,
      'Confidence (0-1) that a link is at fault, from the last localization (absent: not named)',
      ['link'],
    ),
    loss: gauge(registry, `${p}_loss_ratio`, 'Loss the localization estimates on a link named at fault', ['link']),
    addedMs: gauge(registry, `${p}_added_ms`, 'Delay (ms) the localization estimates a link named at fault adds', ['link']),
  };
}

/** What the console shows: when, the findings, the bad paths none explains. */
export interface FaultView {
  checked_at: number | null;
  localization: Localization | null;
}

/** The observations of every probed path over `[now − windowMs, now)`, with the window before as the RTT baseline. */
export async function observePaths(
  topology: Topology,
  data: GuardData,
  now: number,
  windowMs: number,
): Promise<PathObservation[] | undefined> {
  if (!data.qualityByPath) return undefined;
  const [current, before] = await Promise.all([
    data.qualityByPath({ from: now - windowMs, to: now }),
    data.qualityByPath({ from: now - 2 * windowMs, to: now - windowMs }),
  ]);
  const out: PathObservation[] = [];
  for (const [from, to] of topology.pairs())
    for (const p of topology.pathsFor(from, to)) {
      const q = current.get(`${p.id}|*`);
      if (!q || !(q.sent > 0)) continue;
      const b = before.get(`${p.id}|*`);
      out.push({
        path: p.id,
        links: p.links,
        sent: q.sent,
        received: Math.round(q.sent * (1 - q.loss_ratio)),
        ...(q.rtt_p95_ms > 0 ? { rttP95Ms: q.rtt_p95_ms } : {}),
        ...(b && b.rtt_p95_ms > 0 ? { baselineRttP95Ms: b.rtt_p95_ms } : {}),
      });
    }
  return out;
}

/** The findings on the gauges: every link named gets its series, the others lose theirs. */
export function recordFaults(m: FaultMetrics, links: readonly string[], result: Localization): void {
  for (const link of links) {
    m.confidence.remove({ link });
    m.loss.remove({ link });
    m.addedMs.remove({ link });
  }
  for (const f of result.findings)
    for (const link of f.links) {
      m.confidence.set({ link }, f.confidence);
      m.loss.set({ link }, f.loss);
      m.addedMs.set({ link }, f.added_ms);
    }
}

/** The links of findings confident enough to act on. */
export function faultyLinks(result: Localization | null | undefined): Set<string> {
  return new Set((result?.findings ?? []).filter((f) => f.confidence >= ACT_CONFIDENCE).flatMap((f) => f.links));
}

/** `data` whose `qualityByPath` reads each range once (a pass asks for the same window twice). */
export function withQualityOnce(data: GuardData): GuardData {
  const read = data.qualityByPath?.bind(data);
  if (!read) return data;
  const seen = new Map<string, ReturnType<typeof read>>();
  return {
    ...data,
    compare: (q) => data.compare(q),
    qualityByPath: (range) => {
      const key = `${range.from}-${range.to}`;
      let r = seen.get(key);
      if (!r) seen.set(key, (r = read(range)));
      return r;
    },
  };
}
