/**
 * Self-heal: every `self_heal_interval_s` each path is judged against its class SLO (healer.ts); a pair
 * whose carrying path breaks it and has a healthy alternative gets an emergency failover proposal through
 * intake, unless one is already open for the pair. Which paths carry a pair is read from the source
 * router through the failover target (the router's WAN rules are the truth, not the last intent).
 */
import type { RouterApi } from './vyos/types.ts';
import { errorMessage } from '../core/errors.ts';
import { failoverProposal, findBreaches, type Breach } from './healer.ts';
import { faultyLinks, observePaths, recordFaults, withQualityOnce, type FaultView } from './faults.ts';
import { localizeFaults, type Localization } from './localize.ts';
import { pathsWithRoom, type LoadData } from './headroom.ts';
import { coolingPairs } from './policy.ts';
import { sloObjectives, type GuardData } from './guard/index.ts';
import type { PipelineContext } from './pipeline/context.ts';
import { trackPeriodic } from './pipeline/periodic.ts';
import type { Intake } from './pipeline/intake.ts';
import type { ProposalRecord } from './state.ts';
import { carryingLinks, contextPaths, excludedFromBalancing, pinnedLinks } from './targets/index.ts';

const settled = ['confirmed', 'rolled-back', 'failed', 'rejected', 'expired'];

export class SelfHeal {
  /** The loop; stop() waits for its pass in flight, which queries the store. */
  private loop: Promise<void> | undefined;
  /** The last pass's fault localization (the console's view). */
  private faults: FaultView = { checked_at: null, localization: null };

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
  ) {}

  start(): void {
    const { d } = this.ctx;
    const data = d.guardData;
    const ms = d.config.self_heal_interval_s * 1000;
    if (data && ms > 0)
      this.loop = trackPeriodic(this.ctx, 'self-heal', ms, { errorType: 'self_heal', message: 'self-heal check failed' }, () =>
        this.heal(data, ms),
      );
  }

  async stop(): Promise<void> {
    await this.loop;
  }

  /**
   * How a pair leaves its source router now: the first hops of the WAN load-balancing rule for the
   * destination's prefixes (weight > 0), or, when those prefixes are excluded from balancing (pinned class
   * by class, targets/pin.ts), the links its pins' tables route over; the primary path when the router
   * has neither or cannot be read.
   */
  async carrying(
    from: string,
    to: string,
    router: Pick<RouterApi, 'showConfig'> = this.ctx.d.routerFor(from),
    cls?: string,
  ): Promise<{ paths: ReadonlySet<string>; pinned: boolean }> {
    const { d } = this.ctx;
    const paths = d.topology.pathsFor(from, to);
    const prefixes = d.topology.site(to).prefixes;
    const onLinks = (links: ReadonlySet<string>) => paths.filter((p) => links.has(p.links[0]!)).map((p) => p.id);
    try {
      const rules = await router.showConfig([...contextPaths.lbRules]);
      if (excludedFromBalancing(rules, prefixes)) {
        // Pins route class by class: a class is carried where its own pins send it (a class with no pin
        // follows the main table: the primary path).
        const dscp = cls === undefined ? undefined : d.topology.classes.get(cls)?.dscp;
        const links = pinnedLinks(
          d.topology,
          from,
          await router.showConfig([...contextPaths.policyRoute]).catch(() => null),
          await router.showConfig([...contextPaths.staticTables]).catch(() => null),
          prefixes,
          dscp,
        );
        const used = onLinks(links);
        return { paths: new Set(used.length > 0 ? used : paths.slice(0, 1).map((p) => p.id)), pinned: true };
      }
      for (const links of carryingLinks(d.topology, from, rules, prefixes)) {
        const used = onLinks(links);
        if (used.length > 0) return { paths: new Set(used), pinned: false };
      }
    } catch (err) {
      d.log?.warn({ err: errorMessage(err), router: from }, 'cannot read the WAN rules; assuming the primary path');
    }
    return { paths: new Set(paths.slice(0, 1).map((p) => p.id)), pinned: false };
  }

  /**
   * Which links are at fault, from every path's probes in the window (faults.ts): on the metrics and the
   * console; undefined when the data has no per-path quality or cannot be read (the pass goes on without).
   */
  private async localize(data: GuardData, now: number, windowMs: number): Promise<Localization | undefined> {
    const { d } = this.ctx;
    try {
      const obs = await observePaths(d.topology, data, now, windowMs);
      if (!obs) return undefined;
      const result = localizeFaults(obs);
      recordFaults(d.metrics.faults, [...d.topology.links.keys()], result);
      this.faults = { checked_at: now, localization: result };
      if (result.findings.length)
        d.log?.warn(
          {
            findings: result.findings.map((f) => ({
              links: f.links,
              loss: f.loss,
              added_ms: f.added_ms,
              confidence: f.confidence,
            })),
          },
          'fault localized',
        );
      return result;
    } catch (err) {
      d.log?.warn({ err: errorMessage(err) }, 'fault localization skipped');
      return undefined;
    }
  }

  /** The last fault localization (the console's panel). */
  faultView(): FaultView {
    return this.faults;
  }

  /** The paths of a pair its source router sends traffic over now (see carrying()). */
  async carryingPaths(from: string, to: string): Promise<ReadonlySet<string>> {
    return (await this.carrying(from, to)).paths;
  }

  /** One self-heal pass: a failover proposal per breached pair (all its breaking classes) without one already open. */
  async heal(data: GuardData, windowMs: number): Promise<ProposalRecord[]> {
    const { d } = this.ctx;
    const now = d.clock.now();
    const records = await d.state.list();
    const open = records.filter((r) => r.proposal.emergency && !settled.includes(r.proposal.status));
    const backedOut = coolingPairs(records, d.actuation.cooldown_after_rollback_s * 1000, 'emergencies');
    const out: ProposalRecord[] = [];
    const pinnedPairs = new Set<string>();
    // One read per router and subtree per pass: every pair from a router reads the same rules.
    const reads = new Map<string, Promise<unknown>>();
    const cachedRouter = (site: string): Pick<RouterApi, 'showConfig'> => ({
      showConfig: (path: string[]) => {
        const key = `${site}\u0000${path.join(' ')}`;
        let read = reads.get(key);
        if (!read) reads.set(key, (read = d.routerFor(site).showConfig(path)));
        return read as ReturnType<RouterApi['showConfig']>;
      },
    });
    // One read of every path's window quality serves the localization and the breach check.
    data = withQualityOnce(data);
    const avoid = faultyLinks(await this.localize(data, now, windowMs));
    const breaches = await findBreaches(
      d.topology,
      data,
      now,
      windowMs,
      async (from, to, cls) => {
        const how = await this.carrying(from, to, cachedRouter(from), cls);
        if (how.pinned) pinnedPairs.add(`${from}>${to}`);
        return how.paths;
      },
      (pathId, cls, broken) => {
        for (const slo of sloObjectives) {
          const labels = { path_id: pathId, class: cls, slo };
          if (broken) d.metrics.pathSloBreach.set(labels, broken.includes(slo) ? 1 : 0);
          else d.metrics.pathSloBreach.remove(labels);
        }
      },
      avoid,
    );
    // Link loads are read once per pass, and only when there is a breach to act on.
    const loads: { links?: Promise<ReadonlyMap<string, number>> } = {};
    // Every breaking class of a pair goes out in one failover (one open emergency per pair).
    const byPair = new Map<string, Breach[]>();
    for (const b of breaches) byPair.set(b.pair.join('>'), [...(byPair.get(b.pair.join('>')) ?? []), b]);
    for (const [pair, group] of byPair) {
      const [from, to] = group[0]!.pair;
      if (open.some((r) => r.proposal.scope.some((s) => s.pair[0] === from && s.pair[1] === to))) continue;
      // The same move just made things worse (its guard rolled it back): repeating it every pass would
      // flap the pair for as long as the breach lasts. The optimizer's plans may still spread the load.
      if ((backedOut.get(pair) ?? 0) > now) {
        d.metrics.failoverSkipped.inc({ reason: 'backed_off' });
        continue;
      }
      const targets: Breach[] = [];
      for (const b of group) {
        const target = data.load ? await this.withRoom(data.load, b, now, windowMs, loads) : b;
        if (target) targets.push(target);
      }
      if (targets.length === 0) continue;
      const rec = await this.intake.submit(failoverProposal(d.topology, targets, now, pinnedPairs.has(pair)), 'self-heal');
      open.push(rec);
      out.push(rec);
    }
    return out;
  }

  /**
   * The breach with its healthy paths cut to those that can take the pair's traffic (headroom.ts), or
   * undefined when none can: the breach is load, the optimizer's to spread. Without load data, unchanged.
   */
  private async withRoom(
    data: LoadData,
    b: Breach,
    now: number,
    windowMs: number,
    loads: { links?: Promise<ReadonlyMap<string, number>> },
  ): Promise<Breach | undefined> {
    const { d } = this.ctx;
    // Interface counters arrive once a minute: look back at least five of them.
    const range = { from: now - Math.max(windowMs, 5 * 60_000), to: now };
    let links: ReadonlyMap<string, number>;
    let moved: number;
    try {
      links = await (loads.links ??= data.linkLoad(range));
      moved = await data.pairTraffic(range, b.pair[0], b.pair[1]);
    } catch (err) {
      d.log?.warn({ err: errorMessage(err) }, 'cannot read link load; failing over without a headroom check');
      return b;
    }
    const room = pathsWithRoom(d.topology, b.pair[0], b.healthy, moved, links);
    if (room.length > 0) return room.length === b.healthy.length ? b : { ...b, healthy: room };
    d.metrics.failoverSkipped.inc({ reason: 'no_headroom' });
    d.log?.info(
      { pair: b.pair.join('>'), class: b.class, moved_mbps: Math.round(moved), healthy: b.healthy },
      'no failover: the healthy paths cannot take the pair; left to the optimizer',
    );
    return undefined;
  }
}
