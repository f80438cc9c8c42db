/**
 * The security-groups watch: the files in `security_groups.files` are the desired firewall of their routers.
 * Every `interval_s` each file is planned for now and compared, chain by chain, with the rules its block
 * holds on each router; what differs is proposed through the pipeline (risk assessed, approved, staged,
 * audited) like `policy import`. This is what keeps a time window right across a daylight-saving change:
 * the window's hours are converted to the router's frame with the offsets of the day they are rendered
 * (time-window.ts), so when the group's zone changes its offset the rendering changes and the watch
 * proposes it — and it catches an edited file or a rule changed by hand the same way. A file that does not
 * read or parse keeps what the routers have (nothing is proposed from a broken file).
 */
import { errorMessage } from '../../core/errors.ts';
import { readLocated } from '../../core/located-json.ts';
import type { ProposalInput } from '../../core/proposal.ts';
import type { Approvals } from '../pipeline/approvals.ts';
import type { Intake } from '../pipeline/intake.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { WatchLoop } from '../pipeline/periodic.ts';
import type { ProposalRecord } from '../state.ts';
import { sameConfig } from '../vyos/diff.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { FIRST_RULE, GROUP_BLOCK, planFirewall, securityGroupsSchema, type SecurityGroupsFile } from './groups.ts';
import { utcOffsetSeconds } from './time-window.ts';

const UNDECIDED = new Set(['proposed', 'awaiting-approval']);
const WEEK_MS = 7 * 86_400_000;

type FirewallRules = Extract<ProposalInput['intents'][number], { kind: 'firewall-rules' }>;

export class SecurityGroupsWatch {
  private readonly periodic: WatchLoop;
  /** Per file, what it last proposed (its intents, as JSON) and the proposal's id. */
  private readonly proposed = new Map<string, { key: string; id: string }>();
  private seq = 0;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
    private readonly approvals: Approvals,
  ) {
    this.periodic = new WatchLoop(this.ctx, 'security-groups', {
      errorType: 'security_groups',
      message: 'security groups pass failed',
    });
  }

  start(): void {
    const c = this.ctx.d.config.security_groups;
    if (!c.files.length || c.interval_s <= 0) return;
    this.periodic.start(c.interval_s, () => this.check());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass over every file: the proposals made (one per file whose routers differ from it). */
  async check(): Promise<ProposalRecord[]> {
    const { d } = this.ctx;
    const made: ProposalRecord[] = [];
    for (const entry of d.config.security_groups.files) {
      let groups: SecurityGroupsFile;
      try {
        groups = (await readLocated(entry.file, securityGroupsSchema)).data;
      } catch (err) {
        d.metrics.errors.inc({ error_type: 'security_groups' });
        d.log?.warn({ file: entry.file, err: errorMessage(err) }, 'security groups not read: the routers keep their rules');
        continue;
      }
      const rec = await this.reconcile(entry, groups);
      if (rec) made.push(rec);
    }
    return made;
  }

  private async reconcile(
    entry: { file: string; routers: string[]; router_tz: string },
    groups: SecurityGroupsFile,
  ): Promise<ProposalRecord | undefined> {
    const { d } = this.ctx;
    const now = d.clock.now();
    const plan = planFirewall(groups, entry.router_tz, now);
    const first = FIRST_RULE;
    const last = FIRST_RULE + GROUP_BLOCK * groups.SecurityGroups.length - 1;
    const routers = entry.routers.length ? entry.routers : [...d.topology.sites.keys()].sort();
    const intents: FirewallRules[] = [];
    let differing = 0;
    for (const router of routers)
      for (const c of plan.chains) {
        const running = ((await d.routerFor(router).showConfig(['firewall', c.family, c.chain, 'filter', 'rule'])) ??
          {}) as ConfigJson;
        const block = Object.fromEntries(Object.entries(running).filter(([n]) => Number(n) >= first && Number(n) <= last));
        if (sameConfig(block as ConfigJson, c.rules)) continue;
        const numbers = new Set([...Object.keys(block), ...Object.keys(c.rules)]);
        differing += [...numbers].filter(
          (n) => !sameConfig((block[n] ?? null) as ConfigJson | null, (c.rules[n] ?? null) as ConfigJson | null),
        ).length;
        intents.push({
          kind: 'firewall-rules',
          router,
          ...(c.family === 'ipv4' ? {} : { family: c.family }),
          ...(c.chain === 'forward' ? {} : { chain: c.chain }),
          first,
          last,
          rules: c.rules,
        });
      }
    const previous = this.proposed.get(entry.file);
    if (!intents.length) {
      this.proposed.delete(entry.file);
      return undefined;
    }
    const key = JSON.stringify(intents);
    const before = previous ? (await d.state.get(previous.id))?.proposal.status : undefined;
    // The same change again: not while the last one is open, nor after a person rejected it or it rolled
    // back (a new file or a new divergence decides again); after it was applied, the routers drifted.
    if (previous?.key === key && before !== 'confirmed') return undefined;
    // A proposal of this file still undecided is superseded by the newer one.
    if (previous && before && UNDECIDED.has(before))
      await this.approvals.reject(previous.id, 'security-groups', 'superseded: the groups changed again before a decision');
    const shifted = this.offsetChanges(groups, entry.router_tz, now);
    const input: ProposalInput = {
      id: `security-groups-${now}-${this.seq++}`,
      created_at: now,
      kind: 'security',
      reason:
        `security groups ${entry.file}: ${differing} rule(s) differ on ${[...new Set(intents.map((i) => i.router))].join(', ')}` +
        (shifted.length ? `; time windows re-rendered for the UTC offset change of ${shifted.join(', ')}` : ''),
      inputs: {},
      intents,
      predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0 },
      risk: 'low',
    };
    const rec = await this.intake.submit(input, 'security-groups');
    this.proposed.set(entry.file, { key, id: input.id });
    return rec;
  }

  /** The time-window zones (and the router's) whose UTC offset changed in the last week (a daylight-saving change). */
  private offsetChanges(groups: SecurityGroupsFile, routerTz: string, now: number): string[] {
    const windows = groups.SecurityGroups.flatMap((g) => g.Rules.flatMap((r) => (r.TimeWindow ? [r.TimeWindow.TimeZone] : [])));
    if (!windows.length) return [];
    const zones = new Set([...windows, routerTz]);
    return [...zones].filter((z) => utcOffsetSeconds(z, now) !== utcOffsetSeconds(z, now - WEEK_MS)).sort();
  }
}
