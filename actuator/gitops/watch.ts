/**
 * GitOps mode: a git repository of desired per-router configs (`<path>/<router>.conf`, `set` lines) is the
 * source of truth. Every `interval_s` the watch fetches it; the last commit that changed the desired configs
 * is compared, router by router, with what the routers run (secrets, `service https` and `keep` aside), and
 * what differs becomes one proposal of that commit — `config-subtrees` intents per router — through the
 * normal risk assessment, approval, staged rollout and audit. A commit is proposed once; a newer one
 * supersedes its proposal while undecided. Once a proposal of the watch has ended (confirmed, rejected,
 * rolled back …), the routers' applied configs (`applied/<router>.conf`, the GitOps export's redacted
 * format) and a drift report (`drift.md`: what running still differs from desired) are committed back and
 * pushed. A desired file that does not parse, or names no router, proposes nothing from its commit.
 */
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import type { ProposalInput, ProposalStatus } from '../../core/proposal.ts';
import type { Approvals } from '../pipeline/approvals.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { redactedConfig } from '../pipeline/gitops.ts';
import type { Intake } from '../pipeline/intake.ts';
import { WatchLoop } from '../pipeline/periodic.ts';
import type { ProposalRecord } from '../state.ts';
import { pathKey } from '../vyos/diff.ts';
import { ALWAYS_KEPT } from '../vyos/kept.ts';
import { parseSetFile } from '../vyos/set-file.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { GitWorkdir, type GitCommit } from './git.ts';
import { renderDriftReport } from './report.ts';
import { differingSubtrees, type SubtreeDiff } from './subtrees.ts';

const ACTOR = 'gitops';
/** pathpilot's own files in the repository (never desired state). */
const APPLIED_DIR = 'applied';
const DRIFT_FILE = 'drift.md';
const ID_PREFIX = 'gitops-';
const UNDECIDED = new Set<ProposalStatus>(['proposed', 'awaiting-approval']);
/** A proposal of the watch that has ended: its outcome is what the next report commits. */
const ENDED = new Set<ProposalStatus>(['confirmed', 'rolled-back', 'failed', 'drifted', 'drift-accepted', 'rejected', 'expired']);

/** What one pass did (tests, logs). */
export interface GitopsPass {
  /** The commit of the desired configs it compared, if the repository has one. */
  desired?: GitCommit;
  proposed?: ProposalRecord;
  /** The proposal whose outcome it committed back, when it pushed a report. */
  reported?: string;
}

const proposalId = (c: GitCommit) => `${ID_PREFIX}${c.hash.slice(0, 12)}`;
const isMine = (r: ProposalRecord) => r.proposal.id.startsWith(ID_PREFIX) && r.proposal.history[0]?.actor === ACTOR;

export class GitopsWatch {
  private readonly periodic: WatchLoop;
  /** Passes run one at a time: they share one work tree. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly repo: GitWorkdir | undefined;
  /** The desired commit last compared: a commit is proposed from once (later differences are drift). */
  private compared: string | undefined;
  /** The desired configs of a commit, read once (a file that does not parse is counted once): undefined when one did not. */
  private read: { hash: string; configs: Map<string, ConfigJson> | undefined } | undefined;
  /** The proposal whose outcome the last pushed report follows. */
  private reportedFor: string | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
    private readonly approvals: Approvals,
  ) {
    this.periodic = new WatchLoop(this.ctx, 'gitops', { errorType: 'gitops_repo', message: 'gitops pass failed' });
    const c = ctx.d.config.gitops_repo;
    this.repo = c.url ? new GitWorkdir({ url: c.url, branch: c.branch, dir: c.workdir, author: c.author }) : undefined;
  }

  start(): void {
    const c = this.ctx.d.config.gitops_repo;
    if (!this.repo || c.interval_s <= 0) return;
    this.periodic.start(c.interval_s, () => this.check());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass now: fetch, propose the desired commit if it is new and differs, commit back an ended proposal. */
  check(): Promise<GitopsPass> {
    const pass = this.tail.then(() => this.pass());
    this.tail = pass.catch(() => undefined);
    return pass;
  }

  private get keep(): string[][] {
    return this.ctx.d.config.gitops_repo.keep.map((k) => k.trim().split(/\s+/));
  }

  private async pass(): Promise<GitopsPass> {
    const repo = this.repo;
    if (!repo) return {};
    const c = this.ctx.d.config.gitops_repo;
    await repo.sync();
    const desired = await repo.lastCommit(c.path, [APPLIED_DIR, DRIFT_FILE]);
    if (!desired) return {};
    if (this.read?.hash !== desired.hash) this.read = { hash: desired.hash, configs: await this.readDesired(repo) };
    const configs = this.read.configs;
    if (!configs) return { desired };
    const out: GitopsPass = { desired };
    if (this.compared !== desired.hash) {
      const proposed = await this.propose(desired, await this.diffRouters(configs));
      if (proposed) out.proposed = proposed;
      this.compared = desired.hash;
    }
    const reported = await this.report(repo, desired, configs);
    if (reported) out.reported = reported;
    return out;
  }

  /** Each desired config by router; undefined (counted, logged) when a file does not parse or names no router. */
  private async readDesired(repo: GitWorkdir): Promise<Map<string, ConfigJson> | undefined> {
    const { d } = this.ctx;
    const path = d.config.gitops_repo.path;
    const out = new Map<string, ConfigJson>();
    for (const [router, text] of await repo.readConfs(path)) {
      const file = join(path, `${router}.conf`);
      try {
        if (!d.topology.sites.has(router) && !this.ctx.overlayRouters.has(router))
          throw new Error(`no router "${router}" in the topology`);
        out.set(router, parseSetFile(text, d.routerFor(router).version));
      } catch (err) {
        d.metrics.errors.inc({ error_type: 'gitops_desired' });
        d.log?.warn({ file, err: errorMessage(err) }, 'gitops desired config not read: nothing is proposed from this commit');
        return undefined;
      }
    }
    return out;
  }

  /** Desired against running, per router of the repository. */
  private async diffRouters(configs: Map<string, ConfigJson>): Promise<{ router: string; diff: SubtreeDiff }[]> {
    const { d } = this.ctx;
    const out: { router: string; diff: SubtreeDiff }[] = [];
    for (const [router, desired] of configs) {
      const api = d.routerFor(router);
      const running = (await api.showConfig([])) ?? {};
      out.push({ router, diff: differingSubtrees(api.version, running, desired, this.keep) });
    }
    return out;
  }

  /** The commit's proposal, unless it was made already or nothing differs; an older undecided one is superseded. */
  private async propose(desired: GitCommit, diffs: { router: string; diff: SubtreeDiff }[]): Promise<ProposalRecord | undefined> {
    const { d } = this.ctx;
    const id = proposalId(desired);
    if (await d.state.get(id)) return undefined;
    const differing = diffs.filter((r) => r.diff.subtrees.length > 0);
    if (!differing.length) return undefined;
    const short = desired.hash.slice(0, 12);
    for (const r of await d.state.list())
      if (isMine(r) && r.proposal.id !== id && UNDECIDED.has(r.proposal.status))
        await this.approvals.reject(r.proposal.id, ACTOR, `superseded by commit ${short} before a decision`);
    const count = differing.reduce((n, r) => n + r.diff.subtrees.length, 0);
    const input: ProposalInput = {
      id,
      created_at: d.clock.now(),
      kind: 'config',
      reason: `gitops ${short} "${desired.subject.slice(0, 120)}": ${count} subtree(s) differ on ${differing.map((r) => r.router).join(', ')}`,
      inputs: {},
      intents: differing.map(({ router, diff }) => {
        const keep = [...this.keep, ...diff.keep];
        return {
          kind: 'config-subtrees' as const,
          router,
          subtrees: diff.subtrees.map((s) => ({ path: s.path, desired: s.desired })),
          ...(keep.length ? { keep } : {}),
          source: `gitops ${short}`,
        };
      }),
      predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0 },
      // A hand-written change the optimizer's model did not plan: a person decides unless the policy allows medium.
      risk: 'medium',
    };
    try {
      return await this.intake.submit(input, ACTOR);
    } catch (err) {
      // Refused as it is (a subtree the router's schema or the target rejects): the same commit would be again.
      d.metrics.errors.inc({ error_type: 'gitops_desired' });
      d.log?.warn({ proposal: id, err: errorMessage(err) }, 'gitops proposal refused: nothing is proposed from this commit');
      return undefined;
    }
  }

  /**
   * Commits back the applied configs and the drift report once the newest proposal of the watch has ended and
   * was not reported yet (one superseded by a newer commit is not: the newer one's outcome is); the proposal's
   * id when it pushed. A failed push is logged and counted, and retried next pass (the report is made again
   * from what the routers hold then).
   */
  private async report(repo: GitWorkdir, desired: GitCommit, configs: Map<string, ConfigJson>): Promise<string | undefined> {
    const { d, engine } = this.ctx;
    const mine = (await d.state.list()).filter(isMine).sort((a, b) => b.proposal.created_at - a.proposal.created_at);
    const ended = mine[0];
    if (!ended || !ENDED.has(ended.proposal.status) || ended.proposal.id === this.reportedFor) return undefined;
    const last = ended.proposal.history.at(-1);
    const files: Record<string, string> = {};
    for (const router of configs.keys()) files[`${APPLIED_DIR}/${router}.conf`] = await redactedConfig(engine, router);
    files[DRIFT_FILE] = renderDriftReport({
      desired,
      path: d.config.gitops_repo.path,
      proposal: { id: ended.proposal.id, status: ended.proposal.status, by: ended.decidedBy, note: last?.note ?? ended.error },
      open: mine.filter((r) => !ENDED.has(r.proposal.status)).map((r) => ({ id: r.proposal.id, status: r.proposal.status })),
      routers: await this.diffRouters(configs),
      kept: [...ALWAYS_KEPT, ...this.keep].map(pathKey),
    });
    const message = `pathpilot: applied state after ${ended.proposal.id} (${ended.proposal.status})\n\nDesired: ${desired.hash} ${desired.subject}\n`;
    let pushed: boolean;
    try {
      pushed = await repo.commitAndPush(files, message);
    } catch (err) {
      d.metrics.errors.inc({ error_type: 'gitops_repo' });
      d.log?.warn({ proposal: ended.proposal.id, err: errorMessage(err) }, 'gitops report not pushed: retried next pass');
      return undefined;
    }
    this.reportedFor = ended.proposal.id;
    return pushed ? ended.proposal.id : undefined;
  }
}
