/**
 * Rollout: the apply-queue consumer and the driver of each approved proposal through its phases
 * (phases.ts, rollback.ts) under a rollout lease (lease.ts). One rollout per proposal runs in this
 * process at a time; without the lease (another actuator drives it, or the store is unreachable)
 * nothing is touched; a lease lost midway stops the rollout where it is, and whoever takes the lease
 * next resumes it from the record and the routers. A resume sweep (every lease TTL) picks up rollouts
 * a previous or dead process left in flight.
 */
import { busyWhile } from '../../core/clock.ts';
import { PathpilotError, errorMessage } from '../../core/errors.ts';
import type { QueueWorker } from '../../core/queue/types.ts';
import { isLeaseLost, RolloutLease } from '../lease.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineContext } from './context.ts';
import { applyStep, bakeStep, confirm, snapshot, type RolloutRun } from './phases.ts';
import { checkResumed } from './resume-check.ts';
import { rollbackAll } from './rollback.ts';
import { claimRouters, type ClaimResult } from './router-claims.ts';

export class Rollouts {
  private readonly running = new Map<string, Promise<void>>();
  /** Rollouts of this process past their router claim: an emergency may preempt a routine one's bake. */
  private readonly holders = new Map<string, { rec: ProposalRecord; preempt: AbortController }>();
  /** What each waiting proposal last waited for (logged once per holder). */
  private readonly waitingOn = new Map<string, string>();
  private worker: QueueWorker | undefined;
  /** The resume sweep; stop() waits for it. */
  private resuming: Promise<void> | undefined;

  constructor(private readonly ctx: PipelineContext) {}

  private get leaseTtlMs(): number {
    return this.ctx.d.config.lease_ttl_ms;
  }

  async start(): Promise<void> {
    const { config } = this.ctx.d;
    this.worker = await this.ctx.d.queue.process<{ id: string }, void>(
      config.apply_queue,
      async (data) => {
        // Already running here (the resume sweep or a freed router started it first): that rollout is
        // tracked on its own; the job waiting for it would hold a worker slot and, in a lockstep run, keep
        // the simulated clock from moving while the rollout sleeps through its bake.
        if (this.running.has(data.id)) return;
        await this.run(data.id);
      },
      { concurrency: config.rollout_concurrency },
    );
  }

  /** Resumes what a previous process left in flight, and keeps looking (a dead holder's lease expires). */
  async startResuming(): Promise<void> {
    await this.resumeInFlight();
    this.resuming = this.ctx.loops.track('resume', () => this.resumeLoop());
  }

  /** After `life.stopped` is set: waits for the sweep, the consumer and every rollout running here. */
  async stop(): Promise<void> {
    await this.resuming;
    await this.worker?.close();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Waits for every rollout running in this process (tests, benches). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Runs `work` as the one job on proposal `id` in this process. */
  track(id: string, work: Promise<void>): Promise<void> {
    const p = work.finally(() => this.running.delete(id));
    this.running.set(id, p);
    return p;
  }

  /**
   * Takes the rollout lease of `id` (undefined when another actuator holds it; throws when the store fails).
   * A leader takes it over from a holder older than its epoch: a dead or deposed leader's rollout resumes at once.
   */
  acquireLease(id: string): Promise<RolloutLease | undefined> {
    const { log, leader } = this.ctx.d;
    const over = leader?.epoch;
    return RolloutLease.acquire(this.ctx.d.state, id, {
      ttlMs: this.leaseTtlMs,
      ...(log ? { log } : {}),
      ...(over ? { over } : {}),
    });
  }

  /** Runs (or resumes) a proposal's rollout; one at a time per proposal in this process. */
  run(id: string): Promise<void> {
    // Tracked work of a simulated clock: a lockstep run waits for the rollout (asleep while it bakes).
    return (
      this.running.get(id) ??
      this.track(
        id,
        busyWhile(this.ctx.d.clock, `rollout:${id}`, () => this.leased(id)),
      )
    );
  }

  private async leased(id: string): Promise<void> {
    const { d } = this.ctx;
    let lease: RolloutLease | undefined;
    try {
      lease = await this.acquireLease(id);
    } catch (err) {
      d.metrics.errors.inc({ error_type: 'lease' });
      d.log?.warn(
        { proposal: id, err: errorMessage(err) },
        'cannot take the rollout lease (state store unreachable); retrying later',
      );
      return;
    }
    if (!lease) {
      d.log?.info({ proposal: id }, 'rollout lease held by another actuator; leaving the rollout to it');
      return;
    }
    try {
      await this.drive(id, lease);
    } catch (err) {
      if (!isLeaseLost(err) && !lease.lost) throw err;
      d.metrics.errors.inc({ error_type: 'lease_lost' });
      d.log?.warn({ proposal: id, err: errorMessage(err) }, 'rollout stopped: its lease was lost');
    } finally {
      await lease.release();
      if (this.holders.delete(id)) this.wakeWaiting();
    }
  }

  /** A rollout gave its routers back: proposals waiting for them try again now, not at the next sweep. */
  private wakeWaiting(): void {
    if (this.ctx.life.stopped) return;
    this.resumeInFlight().catch((err: unknown) =>
      this.ctx.d.log?.warn(
        { err: errorMessage(err) },
        'cannot list waiting rollouts (state store unreachable); the sweep retries',
      ),
    );
  }

  /**
   * Claims the routers of a rollout about to start. When a router is busy the proposal stays
   * approved and is tried again when the holder finishes (or at the next sweep); an emergency
   * preempts a routine change baking on its router in this process.
   */
  private async claim(rec: ProposalRecord): Promise<Extract<ClaimResult, { granted: true }> | undefined> {
    const { d } = this.ctx;
    const id = rec.proposal.id;
    const claim = await claimRouters(this.ctx, rec);
    if (claim.granted) {
      this.waitingOn.delete(id);
      return claim;
    }
    const holderId = claim.holder?.proposal.id ?? 'another actuator';
    if (this.waitingOn.get(id) !== holderId) {
      this.waitingOn.set(id, holderId);
      d.log?.info(
        { proposal: id, router: claim.router, holder: holderId, reason: claim.reason },
        'rollout waits: its router is held by another change',
      );
    }
    const held = claim.holder && this.holders.get(claim.holder.proposal.id);
    if (claim.reason === 'held' && rec.proposal.emergency && held && !held.rec.proposal.emergency) {
      held.preempt.abort(`preempted by emergency ${id} on router ${claim.router}`);
    }
    return undefined;
  }

  /** Drives the rollout phase by phase until it is done, the process stops or the lease is lost. */
  private async drive(id: string, lease: RolloutLease): Promise<void> {
    const { ctx } = this;
    const rec = await ctx.d.state.get(id);
    if (!rec) throw new PathpilotError('PP_ERR_NOT_FOUND', `no proposal ${id}`);
    ctx.records.bind(rec, lease);
    // A rollout with a record to resume from (a previous holder died or lost its lease).
    const resumed = rec.proposal.status !== 'approved';
    const preempt = new AbortController();
    if (!resumed) {
      const claim = await this.claim(rec);
      if (!claim) return;
      this.holders.set(id, { rec, preempt });
      try {
        if (!(await snapshot(ctx, rec))) return;
      } finally {
        await claim.release();
      }
    } else this.holders.set(id, { rec, preempt });
    const st = rec.rollout;
    if (!st) return;
    if (resumed && (st.phase === 'applying' || st.phase === 'baking') && !(await checkResumed(ctx, rec, st))) return;
    const run: RolloutRun = {
      ctx,
      rec,
      // Every router write of this rollout first checks the lease still holds this token.
      engine: ctx.engine.fenced(() => lease.check()),
      lease,
      persist: () => ctx.d.state.put(rec),
      preempted: preempt.signal,
      firstCommitSeen: Object.values(st.routers).some((r) => r.applied >= 0),
    };
    while (st.phase !== 'done' && !ctx.life.stopped) {
      if (st.phase === 'applying') await applyStep(run, st);
      else if (st.phase === 'baking') {
        if ((await bakeStep(run, st)) === 'stopped') return;
      } else if (st.phase === 'confirming') await confirm(run, st);
      else if (st.phase === 'rolling-back') return rollbackAll(ctx, rec, st, run.engine);
      else return;
    }
  }

  /** Starts every in-flight rollout this process is not running; the lease lets one actuator win. */
  private async resumeInFlight(): Promise<void> {
    const { d, life } = this.ctx;
    // Emergencies first: they take a freed router before routine changes waiting for it.
    const records = (await d.state.list()).sort((a, b) => Number(!!b.proposal.emergency) - Number(!!a.proposal.emergency));
    for (const rec of records) {
      const s = rec.proposal.status;
      if (life.stopped) return;
      if ((s === 'approved' || s === 'applying' || s === 'baking') && !this.running.has(rec.proposal.id)) {
        // Not awaited: one rollout per proposal runs alongside the others; its failure is logged, not thrown.
        this.run(rec.proposal.id).catch((err: unknown) => {
          d.metrics.errors.inc({ error_type: 'resume' });
          d.log?.error({ proposal: rec.proposal.id, err: errorMessage(err) }, 'resumed rollout failed; the next sweep retries');
        });
      }
    }
  }

  /** Every lease TTL (wall time, like the lease): a store outage only delays the next look. */
  private async resumeLoop(): Promise<void> {
    const { life, d } = this.ctx;
    while (!life.stopped) {
      // An unref'd timer: this background look alone never keeps a CLI process alive.
      await new Promise<void>((resolve) => {
        const onAbort = () => (clearTimeout(timer), resolve());
        const timer = setTimeout(() => (life.abort.signal.removeEventListener('abort', onAbort), resolve()), this.leaseTtlMs);
        timer.unref();
        life.abort.signal.addEventListener('abort', onAbort, { once: true });
      });
      if (life.stopped) return;
      try {
        await this.resumeInFlight();
      } catch (err) {
        d.log?.warn({ err: errorMessage(err) }, 'cannot list in-flight rollouts (state store unreachable); retrying');
      }
    }
  }

  /**
   * Retries the restore of a proposal whose rollback could not finish (a router was unreachable):
   * every touched router goes back to its snapshot, or the proposal stays `failed` naming the router.
   * On a `drifted` proposal the admin chose to roll back anyway: the drift is overwritten.
   */
  async retryRollback(rec: ProposalRecord, actor: string, load: (id: string) => Promise<ProposalRecord>): Promise<void> {
    const id = rec.proposal.id;
    const again = (s: string) => s === 'failed' || s === 'drifted';
    if (!again(rec.proposal.status) || !rec.rollout)
      throw new PathpilotError(
        'PP_ERR_CONFLICT',
        `proposal ${id} is ${rec.proposal.status}; only a failed or drifted rollout can be rolled back again`,
      );
    if (this.running.has(id)) throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being worked on`);
    const lease = await this.acquireLease(id);
    if (!lease) throw new PathpilotError('PP_ERR_CONFLICT', `proposal ${id} is being worked on by another actuator`);
    const work = (async () => {
      // Re-read under the lease: the record may have moved on since it was loaded.
      const held = await load(id);
      const hst = held.rollout;
      if (!again(held.proposal.status) || !hst) return;
      const overwriteDrift = held.proposal.status === 'drifted';
      this.ctx.records.bind(held, lease);
      hst.phase = 'rolling-back';
      hst.rollbackReason = `${hst.rollbackReason ?? held.error ?? ''} (rollback retried by ${actor})`.trim();
      await this.ctx.d.state.put(held);
      await rollbackAll(
        this.ctx,
        held,
        hst,
        this.ctx.engine.fenced(() => lease.check()),
        { overwriteDrift },
      );
    })().finally(() => lease.release());
    await this.track(id, work);
  }
}
