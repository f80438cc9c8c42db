/**
 * The actuator: proposal state machine, approvals (REST, Slack, auto), staged rollout with the SLO
 * guard, rollback, audit and GitOps export.
 *
 *   proposed → awaiting-approval → approved → applying ⇄ baking → confirmed
 *                                    │            └──────────────→ rolled-back | failed
 *                                    └ rejected | expired
 *
 * Every record (proposal + rollout state) lives in a `StateStore` (Redis in production) and is
 * written before each router call; `start()` resumes rollouts that were in flight, so a killed
 * process finishes or rolls back. Approval enqueues one job with jobId `apply-<id>`: approving twice
 * applies once (and a second approval of a decided proposal is a no-op).
 */
import { EventEmitter } from 'node:events';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Bus } from '../core/bus/types.ts';
import type { Clock } from '../core/clock.ts';
import type { ActuationConfig } from '../core/config/schema.ts';
import type { Topology } from '../core/config/topology.ts';
import { PathpilotError, ValidationError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { proposalQueueName, proposalSchema, type Proposal, type ProposalInput, type ProposalStatus } from '../core/proposal.ts';
import type { Queue, QueueWorker } from '../core/queue/types.ts';
import {
  changeRecord,
  encodeRecords,
  schemaHeader,
  schemaId,
  type ChangeEvent,
  type ChangeRecordT,
} from '../core/records/index.ts';
import { Engine, RouterStepError, type EngineOptions, type RolloutState, type RouterFinding } from './engine.ts';
import { isLeaseLost, RolloutLease } from './lease.ts';
import { analyzeStep, sloObjectives, type GuardData, type GuardVerdict } from './guard/index.ts';
import type { ActuatorMetrics } from './metrics.ts';
import { TokenBucket, autoDecide } from './policy.ts';
import { maxStepShift, weightsForPrefix } from './render.ts';
import { failoverProposal, findBreaches } from './healer.ts';
import { postSlack, proposalBlocks } from './slack.ts';
import type { ProposalRecord, StateStore } from './state.ts';
import type { ActuatorConfig } from './config.ts';
import type { RouterApi } from './vyos/types.ts';

const transitions: Record<ProposalStatus, ProposalStatus[]> = {
  proposed: ['awaiting-approval', 'approved', 'rejected', 'expired'],
  'awaiting-approval': ['approved', 'rejected', 'expired'],
  approved: ['applying', 'failed', 'rolled-back'],
  applying: ['baking', 'rolled-back', 'failed', 'applying'],
  baking: ['applying', 'confirmed', 'rolled-back', 'failed', 'baking'],
  confirmed: [],
  'rolled-back': [],
  // A rollback that could not finish may be retried by an admin (retryRollback).
  failed: ['rolled-back', 'failed'],
  rejected: [],
  expired: [],
};

export interface ActuatorServiceDeps {
  topology: Topology;
  actuation: ActuationConfig;
  config: ActuatorConfig;
  queue: Queue;
  state: StateStore;
  clock: Clock;
  routerFor: (site: string) => RouterApi;
  metrics: ActuatorMetrics;
  guardData?: GuardData;
  bus?: Bus;
  log?: Logger;
  slack?: { webhookUrl?: string };
  /** Wall clock for retries (tests may shorten). */
  retryClock?: Clock;
}

/** Rollout lease time to live when the config does not set `lease_ttl_ms`. */
const defaultLeaseTtlMs = 10_000;

export type AuditEvent = ChangeRecordT;

export class ActuatorService {
  readonly events = new EventEmitter();
  readonly engine: Engine;
  private readonly bucket: TokenBucket;
  private readonly running = new Map<string, Promise<void>>();
  private readonly audit: AuditEvent[] = [];
  private worker: QueueWorker | undefined;
  private proposalWorker: QueueWorker | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  /** The self-heal loop; stop() waits for its pass in flight, which queries the store. */
  private healing: Promise<void> | undefined;
  /** The resume sweep (see resumeLoop); stop() waits for it like for the heal pass. */
  private resuming: Promise<void> | undefined;
  /** The lease each rollout's record is written under: its writes are fenced by the token. */
  private readonly leases = new WeakMap<ProposalRecord, RolloutLease>();

  /** Bumped on every write of a record: readers cache derived views (the API's list) per revision. */
  revision = 0;

  private readonly d: ActuatorServiceDeps;
  constructor(d: ActuatorServiceDeps) {
    const state = d.state;
    const counted: StateStore = {
      start: () => state.start(),
      stop: () => state.stop(),
      get: (id) => state.get(id),
      list: () => state.list(),
      claimDecision: (id, actor) => state.claimDecision(id, actor),
      acquireLease: (id, ttlMs) => state.acquireLease(id, ttlMs),
      renewLease: (id, token, ttlMs) => state.renewLease(id, token, ttlMs),
      releaseLease: (id, token) => state.releaseLease(id, token),
      putFenced: async (rec, token) => {
        const ok = await state.putFenced(rec, token);
        if (ok) this.revision++;
        return ok;
      },
      put: async (rec) => {
        const lease = this.leases.get(rec);
        if (lease) await this.putUnderLease(state, rec, lease);
        else await state.put(rec);
        this.revision++;
      },
    };
    d = { ...d, state: counted };
    this.d = d;
    // A bake may run over by the ingest lag the guard waits for (guard.max_data_lag_s).
    const lagS = (d.actuation.guard as { max_data_lag_s?: number }).max_data_lag_s ?? 0;
    const bakeS = d.actuation.bake_time_s + lagS;
    const confirmMinutes =
      d.config.commit_confirm_minutes === -1
        ? 0
        : d.config.commit_confirm_minutes > 0
          ? d.config.commit_confirm_minutes
          : Math.ceil(bakeS / 60) + 2;
    const eo: EngineOptions = {
      topology: d.topology,
      routerFor: d.routerFor,
      lanInterface: d.config.lan_interface,
      confirmMinutes,
      retry: { attempts: d.config.retry.attempts, baseMs: d.config.retry.base_ms, maxMs: d.config.retry.max_ms },
      ...(d.retryClock ? { retryClock: d.retryClock } : {}),
      ...(d.log ? { log: d.log } : {}),
      clock: d.clock,
    };
    this.engine = new Engine(eo);
    this.bucket = new TokenBucket(d.actuation.rate_limit.changes_per_hour, d.actuation.rate_limit.burst, d.clock.now());
    this.events.setMaxListeners(100);
  }

  async start(): Promise<void> {
    this.worker = await this.d.queue.process<{ id: string }, void>(this.d.config.apply_queue, async (data) => {
      await this.runRollout(data.id);
    });
    this.proposalWorker = await this.d.queue.process<ProposalInput, void>(proposalQueueName, async (data) => {
      try {
        await this.submit(data, 'optimizer');
      } catch (err) {
        this.d.metrics.errors.inc({ error_type: 'bad_proposal' });
        this.d.log?.warn({ err: errorMessage(err) }, 'proposal rejected at intake');
      }
    });
    if (this.d.guardData && this.d.config.self_heal_interval_s > 0) this.healing = this.healLoop(this.d.guardData);
    // Resume what a previous process left in flight, and keep looking: a rollout whose holder died
    // or lost its lease (store outage) is free again once its lease expires.
    await this.resumeInFlight();
    this.resuming = this.resumeLoop();
  }

  private get leaseTtlMs(): number {
    return (this.d.config as { lease_ttl_ms?: number }).lease_ttl_ms ?? defaultLeaseTtlMs;
  }

  /** Starts every in-flight rollout this process is not running; the lease lets one actuator win. */
  private async resumeInFlight(): Promise<void> {
    for (const rec of await this.d.state.list()) {
      const s = rec.proposal.status;
      if (this.stopped) return;
      if ((s === 'approved' || s === 'applying' || s === 'baking') && !this.running.has(rec.proposal.id)) {
        // Not awaited: one rollout per proposal runs alongside the others; its failure is logged, not thrown.
        this.runRollout(rec.proposal.id).catch((err: unknown) => {
          this.d.metrics.errors.inc({ error_type: 'resume' });
          this.d.log?.error(
            { proposal: rec.proposal.id, err: errorMessage(err) },
            'resumed rollout failed; the next sweep retries',
          );
        });
      }
    }
  }

  /** Every lease TTL (wall time, like the lease): a store outage only delays the next look. */
  private async resumeLoop(): Promise<void> {
    while (!this.stopped) {
      // An unref'd timer: this background look alone never keeps a CLI process alive.
      await new Promise<void>((resolve) => {
        const onAbort = () => (clearTimeout(timer), resolve());
        const timer = setTimeout(() => (this.abort.signal.removeEventListener('abort', onAbort), resolve()), this.leaseTtlMs);
        timer.unref();
        this.abort.signal.addEventListener('abort', onAbort, { once: true });
      });
      if (this.stopped) return;
      try {
        await this.resumeInFlight();
      } catch (err) {
        this.d.log?.warn({ err: errorMessage(err) }, 'cannot list in-flight rollouts (state store unreachable); retrying');
      }
    }
  }

  /**
   * A record written under a lease: only while the lease is held with its token. A store error
   * pauses (the lease check waits with backoff until the store answers or the lease deadline
   * passes) and writes again; a refused write means another actuator holds the rollout now.
   */
  private async putUnderLease(state: StateStore, rec: ProposalRecord, lease: RolloutLease): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (await state.putFenced(rec, lease.token)) return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await lease.check();
        continue;
      }
      lease.markLost('the record is fenced by a newer token');
      throw lease.lostError();
    }
  }

  private async healLoop(data: GuardData): Promise<void> {
    const ms = this.d.config.self_heal_interval_s * 1000;
    while (!this.stopped) {
      try {
        await this.d.clock.sleep(ms, this.abort.signal);
      } catch {
        return;
      }
      try {
        await this.heal(data, ms);
      } catch (err) {
        this.d.metrics.errors.inc({ error_type: 'self_heal' });
        this.d.log?.warn({ err: errorMessage(err) }, 'self-heal check failed');
      }
    }
  }

  /**
   * The paths of a pair its source router sends traffic over now: the first hops of the WAN load-balancing
   * rule for the destination's prefixes (weight > 0), read with `/retrieve`; the primary path when the router
   * has no such rule or cannot be read.
   */
  async carryingPaths(from: string, to: string): Promise<ReadonlySet<string>> {
    const paths = this.d.topology.pathsFor(from, to);
    const prefixes = new Set(this.d.topology.site(to).prefixes);
    try {
      const rules = await this.d.routerFor(from).showConfig(['load-balancing', 'wan', 'rule']);
      for (const rule of Object.values(rules ?? {})) {
        if (!rule || typeof rule !== 'object' || Array.isArray(rule)) continue;
        const dst = (rule as { destination?: { address?: unknown } }).destination?.address;
        if (typeof dst !== 'string' || !prefixes.has(dst)) continue;
        const ifaces = (rule as { interface?: Record<string, { weight?: string } | null> }).interface ?? {};
        const links = new Set(
          Object.entries(ifaces)
            .filter(([, v]) => Number(v?.weight ?? '1') > 0)
            .map(([name]) => this.d.topology.linkForInterface(from, name))
            .filter((l): l is string => l !== undefined),
        );
        const used = paths.filter((p) => links.has(p.links[0]!)).map((p) => p.id);
        if (used.length > 0) return new Set(used);
      }
    } catch (err) {
      this.d.log?.warn({ err: errorMessage(err), router: from }, 'cannot read the WAN rules; assuming the primary path');
    }
    return new Set(paths.slice(0, 1).map((p) => p.id));
  }

  /** One self-heal pass: a failover proposal per breached pair/class without one already open. */
  async heal(data: GuardData, windowMs: number): Promise<ProposalRecord[]> {
    const now = this.d.clock.now();
    const open = (await this.d.state.list()).filter(
      (r) => r.proposal.emergency && !['confirmed', 'rolled-back', 'failed', 'rejected', 'expired'].includes(r.proposal.status),
    );
    const out: ProposalRecord[] = [];
    const breaches = await findBreaches(
      this.d.topology,
      data,
      now,
      windowMs,
      (from, to) => this.carryingPaths(from, to),
      (pathId, cls, broken) => {
        for (const slo of sloObjectives) {
          const labels = { path_id: pathId, class: cls, slo };
          if (broken) this.d.metrics.pathSloBreach.set(labels, broken.includes(slo) ? 1 : 0);
          else this.d.metrics.pathSloBreach.remove(labels);
        }
      },
    );
    for (const b of breaches) {
      const busy = open.some((r) => r.proposal.scope.some((s) => s.pair[0] === b.pair[0] && s.pair[1] === b.pair[1]));
      if (busy) continue;
      const rec = await this.submit(failoverProposal(this.d.topology, b, now), 'self-heal');
      open.push(rec);
      out.push(rec);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('actuator stopping'));
    // A self-heal pass in flight would otherwise still query the store while the app closes it.
    await this.healing;
    await this.resuming;
    await this.worker?.close();
    await this.proposalWorker?.close();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Waits for every rollout running in this process (tests, benches). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  // ---------------------------------------------------------------------------------------- audit

  private async emit(
    proposalId: string,
    event: ChangeEvent,
    extra: { actor?: string; router?: string; step?: number; detail?: unknown } = {},
  ): Promise<void> {
    const rec: AuditEvent = {
      event_id: randomUUID(),
      time: this.d.clock.now(),
      proposal_id: proposalId,
      event,
      ...(extra.actor !== undefined ? { actor: extra.actor } : {}),
      ...(extra.router !== undefined ? { router: extra.router } : {}),
      ...(extra.step !== undefined ? { step: extra.step } : {}),
      ...(extra.detail !== undefined ? { detail: JSON.stringify(extra.detail) } : {}),
    };
    const checked = changeRecord.parse(rec);
    this.audit.push(checked);
    if (this.audit.length > this.d.config.audit_memory) this.audit.splice(0, this.audit.length - this.d.config.audit_memory);
    this.events.emit('change', checked);
    if (this.d.bus) {
      try {
        await this.d.bus.publish(changeRecord.topic, [
          { key: proposalId, value: encodeRecords([checked]), headers: { [schemaHeader]: schemaId(changeRecord) } },
        ]);
      } catch (err) {
        this.d.metrics.errors.inc({ error_type: 'audit_publish' });
        this.d.log?.error({ err: errorMessage(err), proposalId, event }, 'audit event not published');
      }
    }
  }

  /** Audit events seen by this process, newest last (filter by proposal). */
  changes(proposalId?: string): AuditEvent[] {
    return proposalId ? this.audit.filter((e) => e.proposal_id === proposalId) : [...this.audit];
  }

  // ---------------------------------------------------------------------------------- state machine

  private async setStatus(rec: ProposalRecord, status: ProposalStatus, actor?: string, note?: string): Promise<void> {
    const from = rec.proposal.status;
    if (from !== status && !transitions[from].includes(status))
      throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${rec.proposal.id} is ${from}; it cannot become ${status}`);
    const at = this.d.clock.now();
    rec.proposal.status = status;
    rec.proposal.history.push({ status, at, ...(actor ? { actor } : {}), ...(note ? { note: note.slice(0, 500) } : {}) });
    rec.updatedAt = at;
    await this.d.state.put(rec);
    this.d.metrics.proposals.inc({ status });
    this.events.emit('status', { id: rec.proposal.id, status, actor, note });
  }

  /** The actuator's clock time (the lab's simulated time under `npm start`). */
  now(): number {
    return this.d.clock.now();
  }

  /** When an undecided proposal created at `createdAt` expires. */
  expiresAt(createdAt: number): number {
    return createdAt + this.d.actuation.proposal_ttl_s * 1000;
  }

  async get(id: string): Promise<ProposalRecord | undefined> {
    const rec = await this.d.state.get(id);
    if (rec) await this.expireIfStale(rec);
    return rec;
  }

  async list(): Promise<ProposalRecord[]> {
    const all = await this.d.state.list();
    for (const r of all) await this.expireIfStale(r);
    return all.sort((a, b) => b.proposal.created_at - a.proposal.created_at);
  }

  private async expireIfStale(rec: ProposalRecord): Promise<void> {
    const s = rec.proposal.status;
    if (
      (s === 'proposed' || s === 'awaiting-approval') &&
      rec.proposal.created_at + this.d.actuation.proposal_ttl_s * 1000 < this.d.clock.now()
    ) {
      await this.setStatus(rec, 'expired', 'actuator', `not decided within ${this.d.actuation.proposal_ttl_s} s`);
      await this.emit(rec.proposal.id, 'expired', { actor: 'actuator' });
    }
  }

  private cooling(records: ProposalRecord[]): Map<string, number> {
    const out = new Map<string, number>();
    const ms = this.d.actuation.cooldown_after_rollback_s * 1000;
    for (const r of records) {
      if (r.proposal.status !== 'rolled-back' && r.proposal.status !== 'failed') continue;
      const at = r.proposal.history.at(-1)?.at ?? r.updatedAt;
      const pairs = [...r.proposal.scope.map((s) => s.pair), ...r.proposal.intents.flatMap((i) => ('pair' in i ? [i.pair] : []))];
      for (const p of pairs) {
        const k = `${p[0]}>${p[1]}`;
        out.set(k, Math.max(out.get(k) ?? 0, at + ms));
      }
    }
    return out;
  }

  /** Validates and records a proposal; auto-approves it when the policy allows. Idempotent on id. */
  async submit(input: ProposalInput, actor = 'optimizer'): Promise<ProposalRecord> {
    const parsed = proposalSchema.safeParse(input);
    if (!parsed.success)
      throw new ValidationError(
        `invalid proposal: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    const proposal: Proposal = { ...parsed.data, status: 'proposed', history: [] };
    const existing = await this.d.state.get(proposal.id);
    if (existing) return existing;
    for (const intent of proposal.intents) {
      if (!this.d.topology.sites.has(intent.router))
        throw new ValidationError(`invalid proposal ${proposal.id}: unknown router (site) "${intent.router}"`);
    }
    // Render once against an empty config: unknown links and conflicting intents fail here, before any approval.
    for (const router of new Set(proposal.intents.map((i) => i.router))) {
      this.engine.render(
        proposal.intents.filter((i) => i.router === router),
        1,
        {},
        router,
      );
    }
    const rec: ProposalRecord = { proposal, updatedAt: this.d.clock.now() };
    proposal.history.push({ status: 'proposed', at: this.d.clock.now(), actor });
    await this.d.state.put(rec);
    this.d.metrics.proposals.inc({ status: 'proposed' });
    await this.emit(proposal.id, 'proposed', {
      actor,
      detail: { reason: proposal.reason, risk: proposal.risk, intents: proposal.intents },
    });

    const decision = autoDecide(this.d.actuation, {
      proposal,
      now: this.d.clock.now(),
      maxStepShift: await this.maxShift(proposal),
      cooling: this.cooling(await this.d.state.list()),
      bucket: this.bucket,
    });
    if (decision.approve) return this.approve(proposal.id, proposal.emergency ? 'emergency-policy' : 'auto', decision.reason);
    await this.setStatus(rec, 'awaiting-approval', 'actuator', decision.reason);
    await this.notifySlack(rec);
    return rec;
  }

  private async maxShift(p: Proposal): Promise<number> {
    if (!p.intents.some((i) => i.kind === 'path-weights')) return 0;
    const rules = new Map<string, Awaited<ReturnType<RouterApi['showConfig']>>>();
    try {
      for (const router of new Set(p.intents.filter((i) => i.kind === 'path-weights').map((i) => i.router)))
        rules.set(router, await this.d.routerFor(router).showConfig(['load-balancing', 'wan', 'rule']));
    } catch {
      return 1; // Unknown current weights: assume the worst, a human decides.
    }
    return maxStepShift(
      p.intents,
      this.d.actuation.rollout_steps,
      (intent, prefix) => weightsForPrefix(rules.get(intent.router) ?? null, prefix),
      (router, link) => this.d.topology.linkEnd(link, router)?.interface ?? link,
    );
  }

  private async notifySlack(rec: ProposalRecord, decided?: { status: string; actor?: string; note?: string }): Promise<void> {
    const url = decided && rec.slack?.responseUrl ? rec.slack.responseUrl : this.d.slack?.webhookUrl;
    if (!url) return;
    const msg = proposalBlocks(rec.proposal, decided);
    try {
      await postSlack(url, decided && rec.slack?.responseUrl ? { replace_original: true, ...msg } : msg);
    } catch (err) {
      this.d.metrics.errors.inc({ error_type: 'slack' });
      this.d.log?.warn({ err: errorMessage(err), proposal: rec.proposal.id }, 'slack notification failed');
    }
  }

  private async load(id: string): Promise<ProposalRecord> {
    const rec = await this.get(id);
    if (!rec) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal ${id}`);
    return rec;
  }

  /** Approves and enqueues the rollout. A second approval of an approved/running/finished proposal is a no-op. */
  async approve(id: string, actor: string, note?: string, slack?: { responseUrl?: string }): Promise<ProposalRecord> {
    const rec = await this.load(id);
    const s = rec.proposal.status;
    if (s !== 'proposed' && s !== 'awaiting-approval') {
      if (s === 'rejected' || s === 'expired')
        throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is ${s}; it can no longer be approved`);
      return rec;
    }
    if (this.d.actuation.mode === 'observe' && !rec.proposal.emergency)
      throw new PathpilotError('PP_ERR_CONFLICT', 'actuator.mode is observe: nothing is applied');
    if (!(await this.d.state.claimDecision(id, actor))) return this.decided(id, 'approved');
    rec.decidedBy = actor;
    if (slack?.responseUrl) rec.slack = { responseUrl: slack.responseUrl };
    (rec as ProposalRecord & { approvedAt?: number }).approvedAt = Date.now();
    await this.setStatus(rec, 'approved', actor, note);
    await this.emit(id, 'approved', { actor, ...(note ? { detail: { note } } : {}) });
    await this.d.queue.add(this.d.config.apply_queue, 'apply', { id }, { jobId: `apply-${id}` });
    if (slack?.responseUrl) await this.notifySlack(rec, { status: 'approved', actor });
    return rec;
  }

  /**
   * Another caller won the decision: wait until its status is visible, then answer like a repeated
   * request (same decision: the record; the other decision: a conflict).
   */
  private async decided(id: string, wanted: 'approved' | 'rejected'): Promise<ProposalRecord> {
    for (let i = 0; i < 50; i++) {
      const rec = await this.load(id);
      const s = rec.proposal.status;
      if (s !== 'proposed' && s !== 'awaiting-approval') {
        const isReject = s === 'rejected';
        if ((wanted === 'rejected') !== isReject)
          throw new PathpilotError(
            'PP_ERR_CONFLICT',
            `proposal ${id} was already decided (${s}) by ${rec.decidedBy ?? 'someone else'}`,
          );
        return rec;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being decided by someone else`);
  }

  async reject(id: string, actor: string, note?: string, slack?: { responseUrl?: string }): Promise<ProposalRecord> {
    const rec = await this.load(id);
    const s = rec.proposal.status;
    if (s === 'rejected') return rec;
    if (s !== 'proposed' && s !== 'awaiting-approval')
      throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is ${s}; it can no longer be rejected`);
    if (!(await this.d.state.claimDecision(id, actor))) return this.decided(id, 'rejected');
    rec.decidedBy = actor;
    if (slack?.responseUrl) rec.slack = { responseUrl: slack.responseUrl };
    await this.setStatus(rec, 'rejected', actor, note);
    await this.emit(id, 'rejected', { actor, ...(note ? { detail: { note } } : {}) });
    await this.notifySlack(rec, { status: 'rejected', actor });
    return rec;
  }

  // ----------------------------------------------------------------------------------------- rollout

  /** Runs (or resumes) a proposal's rollout; one at a time per proposal in this process. */
  runRollout(id: string): Promise<void> {
    const existing = this.running.get(id);
    if (existing) return existing;
    const p = this.leasedRollout(id).finally(() => this.running.delete(id));
    this.running.set(id, p);
    return p;
  }

  /**
   * Takes the rollout's lease, then drives it. Without the lease (another actuator drives it, or
   * the store is unreachable) nothing is touched; a lease lost midway stops the rollout where it
   * is, and whoever takes the lease next resumes it from the record and the routers.
   */
  private async leasedRollout(id: string): Promise<void> {
    let lease: RolloutLease | undefined;
    try {
      lease = await RolloutLease.acquire(this.d.state, id, {
        ttlMs: this.leaseTtlMs,
        ...(this.d.log ? { log: this.d.log } : {}),
      });
    } catch (err) {
      this.d.metrics.errors.inc({ error_type: 'lease' });
      this.d.log?.warn(
        { proposal: id, err: errorMessage(err) },
        'cannot take the rollout lease (state store unreachable); retrying later',
      );
      return;
    }
    if (!lease) {
      this.d.log?.info({ proposal: id }, 'rollout lease held by another actuator; leaving the rollout to it');
      return;
    }
    try {
      await this.rollout(id, lease);
    } catch (err) {
      if (!isLeaseLost(err) && !lease.lost) throw err;
      this.d.metrics.errors.inc({ error_type: 'lease_lost' });
      this.d.log?.warn({ proposal: id, err: errorMessage(err) }, 'rollout stopped: its lease was lost');
    } finally {
      await lease.release();
    }
  }

  private async rollout(id: string, lease: RolloutLease): Promise<void> {
    const rec = await this.d.state.get(id);
    if (!rec) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal ${id}`);
    this.leases.set(rec, lease);
    // Every router write of this rollout first checks the lease still holds this token.
    const engine = this.engine.fenced(() => lease.check());
    const persist = () => this.d.state.put(rec);
    const p = rec.proposal;
    const approvedAt = (rec as ProposalRecord & { approvedAt?: number }).approvedAt;
    // A rollout with a record to resume from (a previous holder died or lost its lease).
    const resumed = p.status !== 'approved';
    if (p.status === 'approved') {
      try {
        rec.rollout = await this.engine.prepare(p.intents, this.stepsFor(p), this.d.clock.now());
      } catch (err) {
        rec.error = errorMessage(err);
        await this.setStatus(rec, 'failed', 'actuator', `could not read the routers: ${rec.error}`);
        await this.emit(id, 'failed', { actor: 'actuator', detail: { error: rec.error } });
        return;
      }
      await this.setStatus(rec, 'applying', 'actuator');
      await this.emit(id, 'applying', {
        actor: 'actuator',
        detail: { steps: rec.rollout.steps, routers: rec.rollout.order, snapshots: this.snapshotDetail(rec.rollout) },
      });
    }
    const st = rec.rollout;
    if (!st) return;
    if (resumed && (st.phase === 'applying' || st.phase === 'baking') && !(await this.checkResumed(rec, st))) return;
    let firstCommitSeen = Object.values(st.routers).some((r) => r.applied >= 0);
    while (st.phase !== 'done' && !this.stopped) {
      if (st.phase === 'applying') {
        try {
          for (const router of st.order) {
            if (st.routers[router]!.applied >= st.step) continue;
            const before = this.snapshotDetail(st, router);
            const { ops, sent } = await engine.applyRouter(p.intents, st, router, persist);
            this.d.metrics.applies.inc({ result: 'ok' });
            this.d.metrics.routerCalls.inc({ op: 'configure', result: sent ? 'sent' : 'already-applied' });
            if (!firstCommitSeen && approvedAt !== undefined) {
              this.d.metrics.applyLatency.observe((Date.now() - approvedAt) / 1000);
              firstCommitSeen = true;
            }
            await this.emit(id, 'step-applied', {
              actor: 'actuator',
              router,
              step: st.step,
              detail: { fraction: st.steps[st.step], ops, already_applied: !sent, before },
            });
          }
        } catch (err) {
          if (isLeaseLost(err)) throw err;
          this.d.metrics.applies.inc({ result: 'error' });
          st.rollbackReason = errorMessage(err);
          st.phase = 'rolling-back';
          await persist();
          await this.emit(id, 'failed', {
            actor: 'actuator',
            ...(err instanceof RouterStepError ? { router: err.router } : {}),
            step: st.step,
            detail: { error: st.rollbackReason },
          });
          continue;
        }
        if (st.step === 0) await this.emit(id, 'applied', { actor: 'actuator', detail: { routers: st.order } });
        st.phase = 'baking';
        await this.setStatus(rec, 'baking', 'actuator', `step ${st.step + 1}/${st.steps.length}`);
        await this.emit(id, 'baking', { actor: 'actuator', step: st.step, detail: { bake_s: this.d.actuation.bake_time_s } });
      } else if (st.phase === 'baking') {
        let verdict: GuardVerdict;
        try {
          verdict = await this.bake(rec, st, AbortSignal.any([this.abort.signal, lease.signal]));
        } catch (err) {
          if (this.stopped) return; // Stopped mid-bake: the next start resumes this step's bake.
          if (lease.lost) throw lease.lostError(); // The next lease holder resumes this step's bake.
          verdict = {
            result: 'inconclusive',
            failures: 0,
            inconclusive: 1,
            measurements: [],
            reason: `guard error: ${errorMessage(err)}`,
          };
        }
        const event = verdict.result === 'pass' ? 'guard-pass' : verdict.result === 'fail' ? 'guard-fail' : 'guard-inconclusive';
        await this.emit(id, event, { actor: 'guard', step: st.step, detail: verdict });
        if (verdict.result !== 'pass') {
          st.rollbackReason = `guard ${verdict.result} at step ${st.step + 1}: ${verdict.reason}`;
          st.phase = 'rolling-back';
          (st as RolloutState & { verdictAt?: number }).verdictAt = Date.now();
          await persist();
          continue;
        }
        try {
          for (const router of st.order) await engine.confirmRouter(st, router, persist);
        } catch (err) {
          if (isLeaseLost(err)) throw err;
          st.rollbackReason = errorMessage(err);
          st.phase = 'rolling-back';
          await persist();
          continue;
        }
        if (st.step + 1 < st.steps.length) {
          st.step++;
          st.phase = 'applying';
          await this.setStatus(rec, 'applying', 'actuator', `step ${st.step + 1}/${st.steps.length}`);
        } else {
          st.phase = 'confirming';
          await persist();
        }
      } else if (st.phase === 'confirming') {
        for (const router of st.order) {
          try {
            await engine.save(router);
          } catch (err) {
            if (isLeaseLost(err)) throw err;
            this.d.metrics.errors.inc({ error_type: 'save' });
            this.d.log?.warn({ router, err: errorMessage(err) }, 'config save failed (the change stays committed)');
          }
        }
        await this.exportGitops(st.order);
        st.phase = 'done';
        await this.setStatus(rec, 'confirmed', 'actuator');
        await this.emit(id, 'confirmed', { actor: 'actuator', detail: { after: await this.afterDetail(st) } });
        await this.notifySlack(rec, { status: 'confirmed' });
      } else if (st.phase === 'rolling-back') {
        await this.rollbackAll(rec, st, engine);
        return;
      } else {
        return;
      }
    }
  }

  /**
   * Before a resumed rollout touches anything, every router is compared with the record
   * (`Engine.inspect`). Drift (a router holds neither the snapshot nor a step's config) stops the
   * change for a human: status `failed`, nothing overwritten (an admin's retried rollback restores
   * the snapshots). A router that went back on its own — its commit-confirm timer fired while no
   * actuator ran, or a reboot — or a confirm deadline that has passed rolls the change set back on
   * every router at once, before any bake: a 1.5 router that reverted and a 1.4 router that kept
   * the change must not stay half-changed. False when the rollout must not continue as recorded.
   */
  private async checkResumed(rec: ProposalRecord, st: RolloutState): Promise<boolean> {
    const id = rec.proposal.id;
    const expired = this.engine.confirmWindowPassed(st);
    let findings: RouterFinding[];
    try {
      findings = await this.engine.inspect(rec.proposal.intents, st);
    } catch (err) {
      // Unreadable routers: continue as recorded; the first router call fails and rolls back.
      this.d.log?.warn({ proposal: id, err: errorMessage(err) }, 'cannot compare the routers with the record on resume');
      findings = [];
    }
    const drift = findings.filter((f) => f.kind === 'drift');
    const reverted = findings.filter((f) => f.kind === 'reverted').map((f) => f.router);
    if (drift.length > 0) {
      rec.error = `drift on resume: ${drift.map((f) => `${f.router} (${'paths' in f ? f.paths.join(', ') : ''})`).join('; ')} holds neither the snapshot nor the change; a human decides (retry the rollback to restore the snapshots)`;
      st.rollbackReason = rec.error;
      await this.setStatus(rec, 'failed', 'actuator', rec.error);
      await this.emit(id, 'failed', { actor: 'actuator', detail: { error: rec.error, drift } });
      await this.notifySlack(rec, { status: 'FAILED — routers need attention', note: rec.error });
      return false;
    }
    if (reverted.length === 0 && expired.length === 0) return true;
    const who = [...new Set([...reverted, ...expired])].sort();
    st.rollbackReason =
      `resumed after the commit-confirm window: ${who.join(', ')} went back on its own ` +
      `(reverted: ${reverted.join(', ') || 'none'}; deadline passed: ${expired.join(', ') || 'none'}); rolling back every router`;
    st.phase = 'rolling-back';
    await this.d.state.put(rec);
    await this.emit(id, 'failed', {
      actor: 'actuator',
      step: st.step,
      detail: { error: st.rollbackReason, reverted, confirm_window_passed: expired },
    });
    return true;
  }

  private stepsFor(p: Proposal): number[] {
    // Emergency failovers go in one step; weight shifts follow the configured steps; others apply whole.
    if (p.emergency || !p.intents.some((i) => i.kind === 'path-weights')) return [1];
    const steps = [...new Set(this.d.actuation.rollout_steps)].sort((a, b) => a - b);
    return steps.at(-1) === 1 ? steps : [...steps, 1];
  }

  private async bake(rec: ProposalRecord, st: RolloutState, signal: AbortSignal): Promise<GuardVerdict> {
    const bakeMs = this.d.actuation.bake_time_s * 1000;
    if (!this.d.guardData) {
      await this.d.clock.sleep(bakeMs, signal);
      return { result: 'pass', failures: 0, inconclusive: 0, measurements: [], reason: 'no guard data source configured' };
    }
    return analyzeStep({
      proposal: rec.proposal,
      topology: this.d.topology,
      data: this.d.guardData,
      clock: this.d.clock,
      config: this.d.actuation.guard,
      bakeMs,
      baseline: { from: st.startedAt - this.d.config.baseline_s * 1000, to: st.startedAt },
      signal,
    });
  }

  /**
   * Retries the restore of a proposal whose rollback could not finish (a router was unreachable):
   * every touched router goes back to its snapshot, or the proposal stays `failed` naming the router.
   */
  async retryRollback(id: string, actor: string): Promise<ProposalRecord> {
    const rec = await this.load(id);
    const st = rec.rollout;
    if (rec.proposal.status !== 'failed' || !st)
      throw new PathpilotError(
        'PP_ERR_CONFLICT',
        `proposal ${id} is ${rec.proposal.status}; only a failed rollout can be rolled back again`,
      );
    if (this.running.has(id)) throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being worked on`);
    const lease = await RolloutLease.acquire(this.d.state, id, {
      ttlMs: this.leaseTtlMs,
      ...(this.d.log ? { log: this.d.log } : {}),
    });
    if (!lease) throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being worked on by another actuator`);
    const run = (async () => {
      // Re-read under the lease: the record may have moved on since it was loaded.
      const held = await this.load(id);
      const hst = held.rollout;
      if (held.proposal.status !== 'failed' || !hst) return;
      this.leases.set(held, lease);
      hst.phase = 'rolling-back';
      hst.rollbackReason = `${hst.rollbackReason ?? held.error ?? ''} (rollback retried by ${actor})`.trim();
      await this.d.state.put(held);
      await this.rollbackAll(
        held,
        hst,
        this.engine.fenced(() => lease.check()),
      );
    })().finally(async () => {
      this.running.delete(id);
      await lease.release();
    });
    this.running.set(id, run);
    await run;
    return this.load(id);
  }

  private async rollbackAll(rec: ProposalRecord, st: RolloutState, engine: Engine): Promise<void> {
    const id = rec.proposal.id;
    const persist = () => this.d.state.put(rec);
    const t0 = (st as RolloutState & { verdictAt?: number }).verdictAt ?? Date.now();
    const errors: string[] = [];
    for (const router of [...st.order].reverse()) {
      const r = st.routers[router]!;
      if (r.applied < 0 && r.inFlight === null && !r.confirmPending) continue;
      try {
        const before = await this.readTouched(st, router);
        const ops = await engine.restoreRouter(st, router, persist);
        await this.emit(id, 'rolled-back', {
          actor: 'actuator',
          router,
          step: st.step,
          detail: { ops, before, after: this.snapshotDetail(st, router) },
        });
      } catch (err) {
        if (isLeaseLost(err)) throw err;
        errors.push(`${router}: ${errorMessage(err)}`);
      }
    }
    this.d.metrics.rollbackLatency.observe((Date.now() - t0) / 1000);
    st.phase = 'done';
    await this.exportGitops(st.order);
    if (errors.length > 0) {
      this.d.metrics.rollbacks.inc({ result: 'error' });
      rec.error = `rollback incomplete (${errors.join('; ')}) after: ${st.rollbackReason ?? ''}`;
      await this.setStatus(rec, 'failed', 'actuator', rec.error);
      await this.emit(id, 'failed', { actor: 'actuator', detail: { error: rec.error } });
      await this.notifySlack(rec, { status: 'FAILED — routers need attention', note: rec.error });
      return;
    }
    this.d.metrics.rollbacks.inc({ result: 'ok' });
    rec.error = st.rollbackReason;
    await this.setStatus(rec, 'rolled-back', 'actuator', st.rollbackReason);
    await this.notifySlack(rec, { status: 'rolled back', ...(st.rollbackReason ? { note: st.rollbackReason } : {}) });
  }

  private snapshotDetail(st: RolloutState, router?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of router ? [router] : st.order) {
      out[name] = Object.fromEntries(st.routers[name]!.snapshots.map((s) => [s.path.join(' '), s.before]));
    }
    return router ? (out[router] as Record<string, unknown>) : out;
  }

  private async readTouched(st: RolloutState, router: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    try {
      for (const s of st.routers[router]!.snapshots) out[s.path.join(' ')] = await this.d.routerFor(router).showConfig(s.path);
    } catch (err) {
      out['error'] = errorMessage(err);
    }
    return out;
  }

  private async afterDetail(st: RolloutState): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const router of st.order) out[router] = await this.readTouched(st, router);
    return out;
  }

  /** Writes `<gitops_dir>/<router>.conf` (atomic rename) for each router. */
  private async exportGitops(routers: string[]): Promise<void> {
    const dir = this.d.config.gitops_dir;
    if (!dir) return;
    for (const router of routers) {
      try {
        const text = await this.engine.exportConfig(router);
        await mkdir(dir, { recursive: true });
        const file = join(dir, `${router}.conf`);
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      } catch (err) {
        this.d.metrics.errors.inc({ error_type: 'gitops' });
        this.d.log?.warn({ router, err: errorMessage(err) }, 'gitops export failed');
      }
    }
  }
}
