/**
 * The twin's incidents: the scenario's own plus seeded random ones, resolved to links and paths with
 * absolute times, and per tick what they do — RTT steps, loss bursts, brownouts, outages, each preceded
 * by a precursor (jitter creep, micro-loss, a small RTT rise) that failure forecasting can learn from.
 */
import { ValidationError } from '../../core/errors.ts';
import { Rng } from './rng.ts';
import type { LinkImpairments, PathState } from './links.ts';
import type { Scenario, Incident, IncidentKind } from './scenario.ts';

interface ResolvedIncident {
  index: number;
  kind: IncidentKind;
  magnitude: number;
  startMs: number;
  endMs: number;
  precursorMs: number;
  links: number[];
  path: number | undefined;
  label: string;
}

export interface ActiveIncident {
  label: string;
  kind: IncidentKind;
  phase: 'precursor' | 'active';
}

export class IncidentModel implements LinkImpairments {
  readonly linkDown: Uint8Array;
  readonly linkCapFactor: Float64Array;
  readonly linkLossAdd: Float64Array;
  readonly linkRttAdd: Float64Array;
  readonly linkJitterAdd: Float64Array;
  readonly pathRttAdd: Float64Array;
  readonly pathLossAdd: Float64Array;
  readonly pathJitterAdd: Float64Array;
  /** Incidents in their precursor or active phase at the last tick. */
  active: ActiveIncident[] = [];
  private readonly incidents: ResolvedIncident[] = [];

  constructor(
    scenario: Scenario,
    seed: number,
    startMs: number,
    net: { linkIndex: ReadonlyMap<string, number>; pathIndex: ReadonlyMap<string, number>; paths: readonly PathState[] },
  ) {
    const linkCount = net.linkIndex.size;
    this.linkDown = new Uint8Array(linkCount);
    this.linkRttAdd = new Float64Array(linkCount);
    this.linkJitterAdd = new Float64Array(linkCount);
    this.linkLossAdd = new Float64Array(linkCount);
    this.linkCapFactor = new Float64Array(linkCount).fill(1);
    this.pathRttAdd = new Float64Array(net.paths.length);
    this.pathLossAdd = new Float64Array(net.paths.length);
    this.pathJitterAdd = new Float64Array(net.paths.length);
    this.resolve(scenario, seed, startMs, net);
  }

  private resolve(
    sc: Scenario,
    seed: number,
    startMs: number,
    net: { linkIndex: ReadonlyMap<string, number>; pathIndex: ReadonlyMap<string, number>; paths: readonly PathState[] },
  ): void {
    const all: Incident[] = [...sc.incidents];
    const rnd = sc.random_incidents;
    if (rnd.per_week > 0) {
      const rng = new Rng(seed, 'random-incidents');
      const count = Math.round((rnd.per_week * sc.duration_days) / 7);
      const linkIds = [...net.linkIndex.keys()];
      for (let i = 0; i < count; i++) {
        const kind = rng.pick(rnd.kinds);
        const magnitude =
          kind === 'rtt_step'
            ? rng.range(40, 160)
            : kind === 'loss_burst'
              ? rng.range(1.5, 8)
              : kind === 'brownout'
                ? rng.range(0.5, 0.85)
                : 1;
        all.push({
          at_h: rng.range(2, sc.duration_days * 24 - 2),
          target: { link: rng.pick(linkIds) },
          kind,
          magnitude,
          duration_min: rng.range(10, rnd.max_duration_min),
          precursor_min: rnd.precursor_min,
        });
      }
    }
    all.forEach((inc, index) => {
      const incStart = startMs + inc.at_h * 3_600_000;
      let links: number[] = [];
      let path: number | undefined;
      let label: string;
      if ('link' in inc.target) {
        const li = net.linkIndex.get(inc.target.link);
        if (li === undefined)
          throw new ValidationError(`scenario incidents[${index}].target.link: unknown link "${inc.target.link}"`);
        links = [li];
        label = `${inc.kind} on link ${inc.target.link}`;
      } else {
        path = net.pathIndex.get(inc.target.path);
        if (path === undefined)
          throw new ValidationError(`scenario incidents[${index}].target.path: unknown path "${inc.target.path}"`);
        label = `${inc.kind} on path ${inc.target.path}`;
        if (inc.kind === 'brownout' || inc.kind === 'outage') {
          // Capacity lives on links: a path brownout/outage hits the path's first link.
          links = [net.paths[path]!.links[0]!];
          path = undefined;
        }
      }
      this.incidents.push({
        index,
        kind: inc.kind,
        magnitude: inc.magnitude,
        startMs: incStart,
        endMs: incStart + inc.duration_min * 60_000,
        precursorMs: inc.precursor_min * 60_000,
        links,
        path,
        label: `${label} at +${inc.at_h.toFixed(1)}h`,
      });
    });
  }

  /** The incidents of the run (scenario + seeded), with absolute times: ground truth for failure forecasting. */
  schedule(): { label: string; kind: IncidentKind; start: number; end: number; precursor_start: number }[] {
    return this.incidents.map((i) => ({
      label: i.label,
      kind: i.kind,
      start: i.startMs,
      end: i.endMs,
      precursor_start: i.startMs - i.precursorMs,
    }));
  }

  /** Sets every impairment for time t (loss draws come from the tick's `rng`). */
  apply(t: number, rng: Rng): void {
    this.linkRttAdd.fill(0);
    this.linkJitterAdd.fill(0);
    this.linkLossAdd.fill(0);
    this.linkCapFactor.fill(1);
    this.linkDown.fill(0);
    this.pathRttAdd.fill(0);
    this.pathLossAdd.fill(0);
    this.pathJitterAdd.fill(0);
    this.active = [];
    for (const inc of this.incidents) {
      const preStart = inc.startMs - inc.precursorMs;
      if (t < preStart || t >= inc.endMs) continue;
      let rtt = 0;
      let jitter = 0;
      let loss = 0;
      let cap = 1;
      let down = false;
      if (t < inc.startMs) {
        // Precursor: jitter creep, sporadic micro-loss and a small RTT rise, growing towards onset.
        const x = (t - preStart) / Math.max(1, inc.precursorMs);
        jitter = 1 + 9 * x * x;
        rtt = inc.kind === 'rtt_step' ? 0.08 * inc.magnitude * x : 3 * x;
        if (rng.next() < 0.1 + 0.5 * x) loss = rng.range(0.0005, 0.004 + 0.006 * x);
        if (inc.kind === 'brownout') cap = 1 - 0.15 * inc.magnitude * x;
        this.active.push({ label: inc.label, kind: inc.kind, phase: 'precursor' });
      } else {
        switch (inc.kind) {
          case 'rtt_step':
            rtt = inc.magnitude;
            jitter = 0.04 * inc.magnitude;
            break;
          case 'loss_burst':
            loss = (inc.magnitude / 100) * rng.range(0.6, 1.4);
            jitter = 4;
            break;
          case 'brownout':
            cap = 1 - inc.magnitude;
            jitter = 3;
            break;
          case 'outage':
            down = true;
            break;
        }
        this.active.push({ label: inc.label, kind: inc.kind, phase: 'active' });
      }
      if (inc.path !== undefined) {
        this.pathRttAdd[inc.path]! += rtt;
        this.pathLossAdd[inc.path] = 1 - (1 - this.pathLossAdd[inc.path]!) * (1 - loss);
        this.pathJitterAdd[inc.path]! += jitter;
      }
      for (const li of inc.links) {
        this.linkRttAdd[li]! += rtt;
        this.linkJitterAdd[li]! += jitter;
        this.linkLossAdd[li] = 1 - (1 - this.linkLossAdd[li]!) * (1 - loss);
        this.linkCapFactor[li]! *= cap;
        if (down) this.linkDown[li] = 1;
      }
    }
  }
}
