/**
 * The threat-feed watch: every `threat_feeds.interval_s` each feed (URL or file: FireHOL netsets, Spamhaus
 * DROP, plain lists) is read and parsed; their networks, minus the allow-list (the sites' own prefixes, the
 * routers' API addresses, loopback and whatever `allow` lists), bounded to `max_entries`, become one
 * network group and a drop rule on each router — proposed through the pipeline like any change (risk
 * assessed, approved, staged, audited). A feed that cannot be read or has a bad line keeps its last good
 * networks (nothing is dropped from the group by a broken download). Metrics: each feed's last good read,
 * its entries, its errors, and the hits (live conversations to or from the group's networks).
 */
import { readFile } from 'node:fs/promises';
import ipaddr from 'ipaddr.js';
import { errorMessage } from '../../core/errors.ts';
import type { ProposalInput } from '../../core/proposal.ts';
import type { Approvals } from '../pipeline/approvals.ts';
import type { Intake } from '../pipeline/intake.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { WatchLoop } from '../pipeline/periodic.ts';
import type { ProposalRecord } from '../state.ts';
import { parseFeed, planThreatGroup } from './threat-feed.ts';

const UNDECIDED = new Set(['proposed', 'awaiting-approval']);

export class FeedWatch {
  private readonly periodic: WatchLoop;
  /** Each feed's last good networks. */
  private readonly good = new Map<string, string[]>();
  /** The group this watch last proposed (sorted, joined), and its proposal. */
  private proposedKey = '';
  private proposedId: string | undefined;
  private seq = 0;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
    private readonly approvals: Approvals,
  ) {
    this.periodic = new WatchLoop(this.ctx, 'threat-feeds', { errorType: 'threat_feed', message: 'threat feed pass failed' });
  }

  start(): void {
    const c = this.ctx.d.config.threat_feeds;
    if (!c.feeds.length || c.interval_s <= 0) return;
    // A feed never read successfully is as stale as can be (the alert fires), not absent.
    for (const f of c.feeds) this.ctx.d.metrics.feeds.lastSuccess.set({ feed: f.name }, 0);
    this.periodic.start(c.interval_s, () => this.check());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private routers(): string[] {
    const { d } = this.ctx;
    const c = d.config.threat_feeds;
    return c.routers.length ? c.routers : [...d.topology.sites.keys()].sort();
  }

  /** Never blocked: the sites' own prefixes, the routers' API addresses, loopback, and `allow`. */
  allowList(): string[] {
    const { d } = this.ctx;
    const out = new Set<string>(['127.0.0.0/8', ...d.config.threat_feeds.allow]);
    for (const site of d.topology.sites.values()) {
      for (const p of site.prefixes) out.add(p);
      try {
        const host = new URL(site.router.api_url ?? '').hostname.replace(/^\[|\]$/g, '');
        if (ipaddr.isValid(host)) out.add(`${host}/${ipaddr.parse(host).kind() === 'ipv4' ? 32 : 128}`);
      } catch {
        // No API URL (the lab assigns one): nothing to add.
      }
    }
    return [...out];
  }

  private async read(feed: { name: string; url: string; file: string }): Promise<string> {
    if (feed.file) return readFile(feed.file, 'utf8');
    const res = await fetch(feed.url, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`${feed.url} answered ${res.status}`);
    return res.text();
  }

  /** One pass: read every feed, propose the group when it changed; the proposal made, if any. */
  async check(): Promise<ProposalRecord | undefined> {
    const { d } = this.ctx;
    const c = d.config.threat_feeds;
    const m = d.metrics.feeds;
    const now = d.clock.now();
    for (const feed of c.feeds) {
      try {
        const { networks, problems } = parseFeed(feed.name, await this.read(feed));
        if (problems.length) throw new Error(`${problems.length} bad line(s): ${problems.slice(0, 3).join('; ')}`);
        this.good.set(feed.name, networks);
        m.lastSuccess.set({ feed: feed.name }, now / 1000);
        m.entries.set({ feed: feed.name }, networks.length);
      } catch (err) {
        m.errors.inc({ feed: feed.name });
        d.log?.warn({ feed: feed.name, err: errorMessage(err) }, 'threat feed not updated: its last good networks are kept');
      }
    }
    if (!this.good.size) return undefined;
    const plan = planThreatGroup([...this.good.values()].flat(), this.allowList(), c.max_entries);
    await this.countHits(plan.networks);
    const key = [...plan.networks].sort().join();
    if (key === this.proposedKey) return undefined;
    // A group proposal still undecided is superseded by the newer one.
    if (this.proposedId) {
      const open = await d.state.get(this.proposedId);
      if (open && UNDECIDED.has(open.proposal.status))
        await this.approvals.reject(this.proposedId, 'threat-feed', 'superseded: the feeds changed again before a decision');
    }
    const input = this.proposal(plan.networks, plan.allowed.length, plan.truncated, now);
    const rec = await this.intake.submit(input, 'threat-feed');
    this.proposedKey = key;
    this.proposedId = input.id;
    return rec;
  }

  /** Live conversations (last interval) to or from the group's networks, per router: the feed's hits. */
  private async countHits(networks: readonly string[]): Promise<void> {
    const { d } = this.ctx;
    if (!d.riskData || !networks.length) return;
    const nets = networks.map((n) => ipaddr.parseCIDR(n));
    const inGroup = (a: string) => {
      if (!ipaddr.isValid(a)) return false;
      const ip = ipaddr.process(a);
      return nets.some((n) => ip.kind() === n[0].kind() && ip.match(n));
    };
    const now = d.clock.now();
    const range = { from: now - d.config.threat_feeds.interval_s * 1000, to: now };
    for (const router of this.routers()) {
      try {
        const flows = await d.riskData.liveFlows({ site: router, range, limit: d.config.risk.max_flows });
        d.metrics.feeds.hits.set({ router }, flows.filter((f) => inGroup(f.src_addr) || inGroup(f.dst_addr)).length);
      } catch (err) {
        d.log?.warn({ router, err: errorMessage(err) }, 'threat feed hits not counted');
      }
    }
  }

  private proposal(networks: string[], allowed: number, truncated: number, now: number): ProposalInput {
    const c = this.ctx.d.config.threat_feeds;
    const description = 'pathpilot threat feeds';
    const intents: ProposalInput['intents'] = this.routers().flatMap((router): ProposalInput['intents'] => [
      networks.length
        ? { kind: 'firewall-group', router, group: c.group, networks, description }
        : { kind: 'firewall-group', router, group: c.group, networks: [], remove: true },
      {
        kind: 'firewall-rules',
        router,
        first: c.rule,
        last: c.rule,
        rules: networks.length
          ? { [String(c.rule)]: { action: 'drop', description, source: { group: { 'network-group': c.group } } } }
          : {},
      },
    ]);
    const feeds = [...this.good.keys()].join(', ');
    return {
      id: `threat-feed-${now}-${this.seq++}`,
      created_at: now,
      kind: 'security',
      reason: `threat feeds ${feeds}: ${networks.length} networks dropped${allowed ? `, ${allowed} left out by the allow-list` : ''}${truncated ? `, ${truncated} over the ${c.max_entries} bound` : ''}`,
      inputs: {},
      intents,
      predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0 },
      risk: 'low',
    };
  }
}
