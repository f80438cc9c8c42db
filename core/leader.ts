/**
 * Leadership of a role (actuator, optimizer): one process per deployment acts, the others stand by.
 *
 * The leader holds the lease `leader:<role>` in a store every process of the role shares (Redis),
 * taken with `SET NX PX` and a token from `INCR` — the **epoch**, which only grows — and renewed every
 * `renew_ms` by compare-and-set on it (core/lease.ts). A standby tries to take it every `renew_ms`, so
 * it leads at most `ttl_ms + renew_ms` after the leader's last renewal (a killed leader: 5 + 1.5 s with
 * the defaults). The role's actions are fenced on the epoch: `check()` renews with it right before each
 * write, so a stale leader — one whose lease expired while it was stalled or cut off from the store —
 * is refused before anything reaches a router or a queue. A leader that cannot confirm a renewal
 * within `ttl_ms` (store unreachable) steps down at once: nobody else can lead before that, and
 * anybody may after.
 *
 * `Leadership` is what a role sees: `start(hooks)` campaigns (the first attempt inside start(), so a
 * process alone starts leading at once), `hooks.elected` when it leads, `hooks.deposed` when it stops
 * leading (lost, or `stop()`: the lease is released after `deposed`, so a standby takes over at once).
 * With a store only this process sees (memory: `npm start`, unit tests) the process is the leader, for
 * good (`SoloLeadership`): no timers, nothing to lose.
 */
import { LoopTracker, type ComponentStatus, type OnFatal } from './component.ts';
import { errorMessage } from './errors.ts';
import { HeldLease, LeaseLostError, type LeaseOptions, type LeaseStore } from './lease.ts';
import type { Logger } from './log.ts';
import { defaultLeaderConfig, type LeaderConfig } from './leader-config.ts';
import { counter, gauge, type Registry } from './metrics.ts';

/** Why a term ends when the process stops (not a loss). */
const stopReason = 'stopping';

/** The lease a role's leader holds in its store. */
export const leaderLeaseId = (role: string): string => `leader:${role}`;

/** One term of leadership. */
export interface LeaderTerm {
  readonly epoch: number;
  /** Aborted when the term ends (lost or stopped). */
  readonly signal: AbortSignal;
}

export interface LeaderHooks {
  /** This process leads now: start acting. A throw kills the election loop (the process stops). */
  elected(term: LeaderTerm): Promise<void>;
  /** This process no longer leads (`reason`): stop acting, now. Awaited before the lease is released. */
  deposed(term: LeaderTerm, reason: string): Promise<void>;
}

/** One transition, for listeners (a test child prints them). */
export interface LeaderTransition {
  role: string;
  leading: boolean;
  epoch: number;
  reason?: string;
}

export interface Leadership {
  readonly role: string;
  /** True while this process leads (its lease not known lost). */
  readonly leading: boolean;
  /** The epoch of the current term, undefined while standing by (0 for a process alone). */
  readonly epoch: number | undefined;
  start(hooks: LeaderHooks): Promise<void>;
  /** Passes only while this process leads with its epoch (renewing it); else `LeadershipLostError`. */
  check(): Promise<void>;
  stop(): Promise<void>;
  health(): ComponentStatus;
  onTransition(listener: (t: LeaderTransition) => void): void;
}

/** This process is not (or no longer) the leader of its role: whatever it was about to do is refused. */
export class LeadershipLostError extends LeaseLostError {
  constructor(
    readonly role: string,
    reason: string,
    readonly epoch?: number,
  ) {
    super(leaderLeaseId(role), reason, `${role} leadership${epoch !== undefined ? ` (epoch ${epoch})` : ''}`);
    this.name = 'LeadershipLostError';
  }
}

/** The leader's lease: its token is the epoch, its lost error names the role. */
class LeaderLease extends HeldLease {
  private constructor(
    readonly role: string,
    store: LeaseStore,
    token: number,
    o: LeaseOptions,
    takenAt: number,
  ) {
    super(store, leaderLeaseId(role), token, o, takenAt, `${role} leadership`);
  }

  static campaign(role: string, store: LeaseStore, o: LeaseOptions): Promise<LeaderLease | undefined> {
    return HeldLease.take(store, leaderLeaseId(role), o, (token, at) => new LeaderLease(role, store, token, o, at));
  }

  override lostError(): LeadershipLostError {
    return new LeadershipLostError(this.role, this.reason ?? 'released', this.token);
  }
}

/**
 * A fence for a process that believes it leads `role` with `epoch`, without holding the lease (a
 * stale process after a takeover, a tool): passes only while the store still holds that epoch.
 */
export function epochFence(store: LeaseStore, role: string, epoch: number, ttlMs: number): () => Promise<void> {
  return async () => {
    if (!(await store.renewLease(leaderLeaseId(role), epoch, ttlMs)))
      throw new LeadershipLostError(role, 'the store holds a newer epoch', epoch);
  };
}

/** pathpilot_leader*: who leads, with which epoch, and how often that changed. */
function leaderMetrics(registry: Registry | undefined, role: string) {
  if (!registry) return undefined;
  const leading = gauge(registry, 'pathpilot_leader', 'Whether this process leads its role (1) or stands by (0)', ['role']);
  const epoch = gauge(registry, 'pathpilot_leader_epoch', 'Epoch this process leads its role with (0: standby)', ['role']);
  const transitions = counter(
    registry,
    'pathpilot_leader_transitions_total',
    'Leadership transitions of this process, by the state entered (leader, standby)',
    ['role', 'to'],
  );
  leading.set({ role }, 0);
  epoch.set({ role }, 0);
  return {
    set(to: 'leader' | 'standby', e: number) {
      leading.set({ role }, to === 'leader' ? 1 : 0);
      epoch.set({ role }, to === 'leader' ? e : 0);
      transitions.inc({ role, to });
    },
  };
}

export interface LeadershipDeps {
  role: string;
  registry?: Registry;
  log?: Logger;
  onFatal?: OnFatal;
}

/** Listeners and metrics of a transition, and its log line: what both kinds of leadership share. */
class Transitions {
  private readonly listeners: ((t: LeaderTransition) => void)[] = [];
  private readonly metrics: ReturnType<typeof leaderMetrics>;
  constructor(private readonly d: LeadershipDeps) {
    this.metrics = leaderMetrics(d.registry, d.role);
  }
  on(listener: (t: LeaderTransition) => void): void {
    this.listeners.push(listener);
  }
  emit(leading: boolean, epoch: number, reason?: string): void {
    const { role, log } = this.d;
    this.metrics?.set(leading ? 'leader' : 'standby', epoch);
    if (leading) log?.info({ role, epoch }, `${role}: leading (epoch ${epoch})`);
    // A stop hands the leadership over on purpose; anything else lost it.
    else if (reason === stopReason) log?.info({ role, epoch }, `${role}: leadership handed over (stopping)`);
    else log?.warn({ role, epoch, reason }, `${role}: leadership lost (epoch ${epoch}): ${reason ?? ''}`);
    const t: LeaderTransition = { role, leading, epoch, ...(reason !== undefined ? { reason } : {}) };
    for (const l of this.listeners) {
      try {
        l(t);
      } catch {
        // A listener's failure must not stop a transition.
      }
    }
  }
}

/** The one process of its role (a store nobody else sees): leads from start() to stop(), epoch 0. */
export class SoloLeadership implements Leadership {
  private term: { epoch: number; abort: AbortController; hooks: LeaderHooks } | undefined;
  private readonly transitions: Transitions;
  constructor(private readonly d: LeadershipDeps) {
    this.transitions = new Transitions(d);
  }
  get role(): string {
    return this.d.role;
  }
  get leading(): boolean {
    return this.term !== undefined;
  }
  get epoch(): number | undefined {
    return this.term?.epoch;
  }
  async start(hooks: LeaderHooks): Promise<void> {
    const abort = new AbortController();
    this.term = { epoch: 0, abort, hooks };
    this.transitions.emit(true, 0);
    await hooks.elected({ epoch: 0, signal: abort.signal });
  }
  async check(): Promise<void> {
    if (!this.term) throw new LeadershipLostError(this.d.role, 'stopped');
  }
  async stop(): Promise<void> {
    const t = this.term;
    if (!t) return;
    this.term = undefined;
    t.abort.abort();
    this.transitions.emit(false, 0, stopReason);
    await t.hooks.deposed({ epoch: 0, signal: t.abort.signal }, stopReason);
  }
  health(): ComponentStatus {
    return { ok: true };
  }
  onTransition(listener: (t: LeaderTransition) => void): void {
    this.transitions.on(listener);
  }
}

export interface LeaderElectionDeps extends LeadershipDeps {
  /** Where the lease lives: shared by every process of the role (Redis). */
  store: LeaseStore;
}

/** Leadership through a lease in a shared store (see the top of this file). */
export class LeaderElection implements Leadership {
  private lease: LeaderLease | undefined;
  private hooks: LeaderHooks | undefined;
  private readonly loops: LoopTracker;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private readonly transitions: Transitions;
  /** A store failure is logged once per run of failures, not every `renew_ms`. */
  private storeFailing = false;
  private standbyLogged = false;

  constructor(
    private readonly d: LeaderElectionDeps,
    private readonly config: LeaderConfig = defaultLeaderConfig,
  ) {
    this.loops = new LoopTracker(`${d.role}.leader`, {
      ...(d.log ? { log: d.log } : {}),
      ...(d.onFatal ? { onFatal: d.onFatal } : {}),
    });
    this.transitions = new Transitions(d);
  }

  get role(): string {
    return this.d.role;
  }

  get leading(): boolean {
    return this.lease !== undefined && !this.lease.lost;
  }

  get epoch(): number | undefined {
    return this.leading ? this.lease!.token : undefined;
  }

  async start(hooks: LeaderHooks): Promise<void> {
    this.hooks = hooks;
    await this.campaign();
    this.loop = this.loops.track('campaign', () => this.run());
  }

  async check(): Promise<void> {
    const lease = this.lease;
    if (!lease) throw new LeadershipLostError(this.d.role, 'this process is standing by');
    await lease.check();
  }

  async stop(): Promise<void> {
    this.loops.stopping();
    this.stopping.abort();
    await this.loop;
    const lease = this.lease;
    if (!lease) return;
    // Stop acting first, then free the lease: the standby never acts while this process still does.
    await this.stepDown(lease, stopReason);
    // A store that does not answer: the lease expires on its own.
    await within(lease.release(), this.config.ttl_ms);
  }

  health(): ComponentStatus {
    return this.loops.health();
  }

  onTransition(listener: (t: LeaderTransition) => void): void {
    this.transitions.on(listener);
  }

  private term(lease: LeaderLease): LeaderTerm {
    return { epoch: lease.token, signal: lease.signal };
  }

  /** One attempt to lead; `elected` runs (awaited) when it succeeds. */
  private async campaign(): Promise<void> {
    const { d, config } = this;
    let lease: LeaderLease | undefined;
    try {
      const taking = LeaderLease.campaign(d.role, d.store, {
        ttlMs: config.ttl_ms,
        renewMs: config.renew_ms,
        ...(d.log ? { log: d.log } : {}),
      });
      // A store call that hangs blocks neither the next attempt nor stop(); a lease granted late is given back.
      const answer = await within(taking, config.ttl_ms, this.stopping.signal);
      if (!answer || this.stopping.signal.aborted) {
        void taking.then((l) => l?.release()).catch(() => undefined);
        if (!answer && !this.stopping.signal.aborted) throw new Error(`no answer within ${config.ttl_ms} ms`);
        return;
      }
      lease = answer.value;
      this.storeFailing = false;
    } catch (err) {
      if (!this.storeFailing)
        d.log?.warn({ role: d.role, err: errorMessage(err) }, `${d.role}: cannot reach the leadership store; retrying`);
      this.storeFailing = true;
      return;
    }
    if (!lease) {
      if (!this.standbyLogged) d.log?.info({ role: d.role }, `${d.role}: standing by (another process leads)`);
      this.standbyLogged = true;
      return;
    }
    this.lease = lease;
    this.standbyLogged = false;
    this.transitions.emit(true, lease.token);
    try {
      await this.hooks!.elected(this.term(lease));
    } catch (err) {
      // Could not start acting: give the leadership back (a standby may do better) and fail.
      await this.stepDown(lease, `could not start leading: ${errorMessage(err)}`).catch(() => undefined);
      await lease.release();
      throw err;
    }
  }

  /** The term of `lease` ends: `deposed` runs once, whatever ended it. */
  private async stepDown(lease: LeaderLease, reason: string): Promise<void> {
    if (this.lease !== lease) return;
    this.lease = undefined;
    this.transitions.emit(false, lease.token, reason);
    await this.hooks!.deposed(this.term(lease), reason);
  }

  /** Waits `ms`, or less when `signal` aborts or the election stops. */
  private pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const signals = [this.stopping.signal, ...(signal ? [signal] : [])];
      const done = () => {
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      for (const s of signals) {
        if (s.aborted) return done();
        s.addEventListener('abort', done, { once: true });
      }
    });
  }

  private async run(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const lease = this.lease;
      if (lease) {
        // Leading: the lease renews itself; wake when it is lost (or the election stops).
        await this.pause(this.config.ttl_ms, lease.signal);
        if (lease.lost && !stop.aborted) await this.stepDown(lease, lease.reason ?? 'lost');
        continue;
      }
      await this.pause(this.config.renew_ms);
      if (!stop.aborted) await this.campaign();
    }
  }
}

/** `p`'s value when it settles within `ms` (and before `signal` aborts), else undefined; a rejection is thrown. */
async function within<T>(p: Promise<T>, ms: number, signal?: AbortSignal): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    onAbort = () => resolve(undefined);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** The leadership of `role`: elected through `store` when every process of the role shares it, else solo. */
export function createLeadership(
  deps: LeadershipDeps & { store?: LeaseStore | undefined },
  config: LeaderConfig = defaultLeaderConfig,
): Leadership {
  const { store, ...rest } = deps;
  return store ? new LeaderElection({ ...rest, store }, config) : new SoloLeadership(rest);
}
