/**
 * Self-heal: every `self_heal_interval_s` each path is judged against its class SLO (healer.ts); a pair
 * whose carrying path breaks it and has a healthy alternative gets an emergency failover proposal through
 * intake, unless one is already open for the pair. Which paths carry a pair is read from the source
 * router through the failover target (the router's WAN rules are the truth, not the last intent).
 */
import { errorMessage } from '../core/errors.ts';
import { failoverProposal, findBreaches } from './healer.ts';
import { sloObjectives, type GuardData } from './guard/index.ts';
import type { PipelineContext } from './pipeline/context.ts';
import type { Intake } from './pipeline/intake.ts';
import type { ProposalRecord } from './state.ts';
import { carryingLinks, contextPaths } from './targets/index.ts';

const settled = ['confirmed', 'rolled-back', 'failed', 'rejected', 'expired'];

export class SelfHeal {
  /** The loop; stop() waits for its pass in flight, which queries the store. */
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
  ) {}

  start(): void {
    const { d } = this.ctx;
    const data = d.guardData;
    if (data && d.config.self_heal_interval_s > 0) this.loop = this.ctx.loops.track('self-heal', () => this.run(data));
  }

  async stop(): Promise<void> {
    await this.loop;
  }

  private async run(data: GuardData): Promise<void> {
    const { d, life } = this.ctx;
    const ms = d.config.self_heal_interval_s * 1000;
    while (!life.stopped) {
      try {
        await d.clock.sleep(ms, life.abort.signal);
      } catch {
        return;
      }
      try {
        await this.heal(data, ms);
      } catch (err) {
        d.metrics.errors.inc({ error_type: 'self_heal' });
        d.log?.warn({ err: errorMessage(err) }, 'self-heal check failed');
      }
    }
  }

  /**
   * The paths of a pair its source router sends traffic over now: the first hops of the WAN load-balancing
   * rule for the destination's prefixes (weight > 0); the primary path when the router has no such rule or
   * cannot be read.
   */
  async carryingPaths(from: string, to: string): Promise<ReadonlySet<string>> {
    const { d } = this.ctx;
    const paths = d.topology.pathsFor(from, to);
    try {
      const rules = await d.routerFor(from).showConfig([...contextPaths.lbRules]);
      for (const links of carryingLinks(d.topology, from, rules, d.topology.site(to).prefixes)) {
        const used = paths.filter((p) => links.has(p.links[0]!)).map((p) => p.id);
        if (used.length > 0) return new Set(used);
      }
    } catch (err) {
      d.log?.warn({ err: errorMessage(err), router: from }, 'cannot read the WAN rules; assuming the primary path');
    }
    return new Set(paths.slice(0, 1).map((p) => p.id));
  }

  /** One self-heal pass: a failover proposal per breached pair/class without one already open. */
  async heal(data: GuardData, windowMs: number): Promise<ProposalRecord[]> {
    const { d } = this.ctx;
    const now = d.clock.now();
    const open = (await d.state.list()).filter((r) => r.proposal.emergency && !settled.includes(r.proposal.status));
    const out: ProposalRecord[] = [];
    const breaches = await findBreaches(
      d.topology,
      data,
      now,
      windowMs,
      (from, to) => this.carryingPaths(from, to),
      (pathId, cls, broken) => {
        for (const slo of sloObjectives) {
          const labels = { path_id: pathId, class: cls, slo };
          if (broken) d.metrics.pathSloBreach.set(labels, broken.includes(slo) ? 1 : 0);
          else d.metrics.pathSloBreach.remove(labels);
        }
      },
    );
    for (const b of breaches) {
      if (open.some((r) => r.proposal.scope.some((s) => s.pair[0] === b.pair[0] && s.pair[1] === b.pair[1]))) continue;
      const rec = await this.intake.submit(failoverProposal(d.topology, b, now), 'self-heal');
      open.push(rec);
      out.push(rec);
    }
    return out;
  }
}
