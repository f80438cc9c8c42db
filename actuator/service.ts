/**
 * The actuator as one pipeline: intake (the one consumer of the proposal queue) → approvals (REST,
 * Slack, auto policy) → rollout (phase handlers over a persisted `RolloutState`, under a lease) → audit,
 * over the registry of actuation targets (targets/), with self-heal proposing failovers through intake and
 * the tunnel watch proposing WireGuard failovers and restores the same way.
 * This class wires the stages and keeps the surface app/, the API, the CLI and the tests use.
 *
 * Every record (proposal + rollout state) lives in a `StateStore` (Redis in production) and is written
 * before each router call; `start()` resumes rollouts that were in flight, so a killed process finishes
 * or rolls back.
 */
import type { RootConfig } from '../core/config/schema.ts';
import type { ProposalInput } from '../core/proposal.ts';
import { currentWeights, type CurrentWeights } from './current-weights.ts';
import type { Engine } from './engine.ts';
import type { GuardData } from './guard/index.ts';
import { SelfHeal } from './heal.ts';
import type { FaultView } from './faults.ts';
import { GitopsWatch, type GitopsPass } from './gitops/watch.ts';
import { Approvals } from './pipeline/approvals.ts';
import type { AuditEvent } from './pipeline/audit.ts';
import { createPipelineContext, reviveContext, type PipelineContext, type PipelineDeps } from './pipeline/context.ts';
import { Intake } from './pipeline/intake.ts';
import { Rollouts } from './pipeline/rollout.ts';
import { RealizedEffects } from './realized.ts';
import { ComplianceWatch, type ComplianceView } from './security/compliance-watch.ts';
import { FeedWatch } from './security/feed-watch.ts';
import { SecurityGroupsWatch } from './security/groups-watch.ts';
import { RouterKeyWatch, type RouterKeyView } from './security/router-key-watch.ts';
import type { KeyRotationResult } from './security/router-keys.ts';
import type { TunnelView } from './tunnels/view.ts';
import { TunnelWatch } from './tunnels/watch.ts';
import type { ProposalRecord } from './state.ts';

export type { AuditEvent } from './pipeline/audit.ts';
export type ActuatorServiceDeps = PipelineDeps;

export class ActuatorService {
  private readonly ctx: PipelineContext;
  private readonly approvals: Approvals;
  private readonly intake: Intake;
  private readonly rollouts: Rollouts;
  private readonly selfHeal: SelfHeal;
  private readonly realized: RealizedEffects;
  private readonly tunnelWatch: TunnelWatch;
  private readonly complianceWatch: ComplianceWatch;
  private readonly feedWatch: FeedWatch;
  private readonly routerKeyWatch: RouterKeyWatch;
  private readonly groupsWatch: SecurityGroupsWatch;
  private readonly gitopsWatch: GitopsWatch;

  constructor(d: ActuatorServiceDeps) {
    this.ctx = createPipelineContext(d);
    this.approvals = new Approvals(this.ctx);
    this.intake = new Intake(this.ctx, this.approvals);
    this.rollouts = new Rollouts(this.ctx);
    this.selfHeal = new SelfHeal(this.ctx, this.intake);
    this.realized = new RealizedEffects(this.ctx);
    this.tunnelWatch = new TunnelWatch(this.ctx, this.intake, this.approvals);
    this.complianceWatch = new ComplianceWatch(this.ctx, () => this.tunnelWatch.keyTimesNow());
    this.feedWatch = new FeedWatch(this.ctx, this.intake, this.approvals);
    this.routerKeyWatch = new RouterKeyWatch(this.ctx, d.routerKeys);
    this.groupsWatch = new SecurityGroupsWatch(this.ctx, this.intake, this.approvals);
    this.gitopsWatch = new GitopsWatch(this.ctx, this.intake, this.approvals);
  }

  get events(): PipelineContext['events'] {
    return this.ctx.events;
  }

  /** Liveness: false once a background loop died. */
  health(): ReturnType<PipelineContext['loops']['health']> {
    return this.ctx.loops.health();
  }

  get engine(): Engine {
    return this.ctx.engine;
  }

  /** Bumped on every write of a record: readers cache derived views (the API's list) per revision. */
  get revision(): number {
    return this.ctx.records.revision;
  }

  /** Starts every stage; again after a stop too (a new leadership term: see actuator/index.ts). */
  async start(): Promise<void> {
    if (this.ctx.life.stopped) reviveContext(this.ctx);
    await this.rollouts.start();
    await this.intake.start();
    this.selfHeal.start();
    this.realized.start();
    await this.tunnelWatch.start();
    this.complianceWatch.start();
    this.feedWatch.start();
    this.routerKeyWatch.start();
    this.groupsWatch.start();
    this.gitopsWatch.start();
    await this.rollouts.startResuming();
  }

  async stop(): Promise<void> {
    this.ctx.loops.stopping();
    this.ctx.life.stopped = true;
    this.ctx.life.abort.abort(new Error('actuator stopping'));
    // A self-heal pass in flight would otherwise still query the store while the app closes it.
    await this.selfHeal.stop();
    await this.realized.stop();
    await this.tunnelWatch.stop();
    await this.complianceWatch.stop();
    await this.feedWatch.stop();
    await this.routerKeyWatch.stop();
    await this.groupsWatch.stop();
    await this.gitopsWatch.stop();
    await this.intake.stop();
    await this.rollouts.stop();
  }

  /** Waits for every rollout running in this process (tests, benches). */
  idle(): Promise<void> {
    return this.rollouts.idle();
  }

  carryingPaths(from: string, to: string): Promise<ReadonlySet<string>> {
    return this.selfHeal.carryingPaths(from, to);
  }

  heal(data: GuardData, windowMs: number): Promise<ProposalRecord[]> {
    return this.selfHeal.heal(data, windowMs);
  }

  /** One tunnel check now (tests; the watch runs every `tunnels.interval_s`): the proposal it made, if any. */
  checkTunnels(windowMs?: number): Promise<ProposalRecord | undefined> {
    return this.tunnelWatch.check(windowMs);
  }

  /** One compliance pass over the site routers now (tests; the watch runs every `compliance.interval_s`). */
  checkCompliance(): Promise<ComplianceView> {
    return this.complianceWatch.check();
  }

  /** One threat-feed pass now (tests; the watch runs every `threat_feeds.interval_s`): the proposal it made, if any. */
  checkThreatFeeds(): Promise<ProposalRecord | undefined> {
    return this.feedWatch.check();
  }

  /** One security-groups pass now (tests; the watch runs every `security_groups.interval_s`): the proposals made. */
  checkSecurityGroups(): Promise<ProposalRecord[]> {
    return this.groupsWatch.check();
  }

  /** One GitOps pass now (tests; the watch runs every `gitops_repo.interval_s`): what it compared, proposed, committed back. */
  checkGitops(): Promise<GitopsPass> {
    return this.gitopsWatch.check();
  }

  /** One router key check now (tests; the watch runs every `router_keys.check_interval_s`). */
  checkRouterKeys(): Promise<KeyRotationResult | undefined> {
    return this.routerKeyWatch.check();
  }

  /** Rotates `site`'s router API key now (the API's admin action). */
  rotateRouterKey(site: string): Promise<KeyRotationResult> {
    return this.routerKeyWatch.rotate(site);
  }

  /** Each router's API key as pathpilot holds it (ids and ages, never the keys). */
  routerKeys(): RouterKeyView[] {
    return this.routerKeyWatch.view();
  }

  /** The last fault localization of the self-heal (the console's panel). */
  faults(): FaultView {
    return this.selfHeal.faultView();
  }

  /** The routers' compliance as the last pass saw it (the console's panel). */
  compliance(): ComplianceView {
    return this.complianceWatch.view();
  }

  /** The tunnels as the tunnel watch last saw them (the console's panel). */
  tunnels(): TunnelView {
    return this.tunnelWatch.view();
  }

  /** One IPsec SA check now (tests): router → peer → SA established. */
  checkIpsec(): Promise<Map<string, Map<string, boolean>>> {
    return this.tunnelWatch.checkIpsec();
  }

  /** One realized-effect pass now (tests): the records it measured. */
  measureRealized(): Promise<ProposalRecord[]> {
    const data = this.ctx.d.realizedData;
    return data ? this.realized.pass(data) : Promise.resolve([]);
  }

  /** Audit events seen by this process, newest last (filter by proposal). */
  changes(proposalId?: string): AuditEvent[] {
    return this.ctx.audit.changes(proposalId);
  }

  /** The actuator's clock time (the lab's simulated time under `npm start`). */
  now(): number {
    return this.ctx.d.clock.now();
  }

  /** When an undecided proposal created at `createdAt` expires. */
  expiresAt(createdAt: number): number {
    return this.approvals.expiresAt(createdAt);
  }

  get(id: string): Promise<ProposalRecord | undefined> {
    return this.approvals.get(id);
  }

  list(): Promise<ProposalRecord[]> {
    return this.approvals.list();
  }

  submit(input: ProposalInput, actor = 'optimizer'): Promise<ProposalRecord> {
    return this.intake.submit(input, actor);
  }

  approve(id: string, actor: string, note?: string, slack?: { responseUrl?: string }): Promise<ProposalRecord> {
    return this.approvals.approve(id, actor, note, slack);
  }

  reject(id: string, actor: string, note?: string, slack?: { responseUrl?: string }): Promise<ProposalRecord> {
    return this.approvals.reject(id, actor, note, slack);
  }

  /** Runs (or resumes) a proposal's rollout; one at a time per proposal in this process. */
  runRollout(id: string): Promise<void> {
    return this.rollouts.run(id);
  }

  /** An admin keeps a drifted proposal's routers as they are (`drift-accepted`); the record. */
  acceptDrift(id: string, actor: string, note?: string): Promise<ProposalRecord> {
    return this.approvals.acceptDrift(id, actor, note);
  }

  /** Retries the restore of a failed rollout, or rolls a drifted one back anyway (an admin's action); the record as it ends. */
  async retryRollback(id: string, actor: string): Promise<ProposalRecord> {
    const load = (pid: string) => this.approvals.load(pid);
    await this.rollouts.retryRollback(await load(id), actor, load);
    return load(id);
  }

  /** The optimizer's view of what the routers run now (from confirmed intents). */
  async currentWeights(classes: RootConfig['classes']): Promise<CurrentWeights> {
    return currentWeights(
      (await this.ctx.d.state.list()).map((r) => r.proposal),
      this.ctx.d.topology,
      classes,
    );
  }
}
