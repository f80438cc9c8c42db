/**
 * Applying a change set to VyOS routers, one step at a time, and undoing it.
 *
 * Per router: the touched subtrees are snapshotted (`/retrieve showConfig`) before the first change,
 * each step is one `/configure` request holding the minimal diff (validated against vyos-paths.json
 * first), armed with commit-confirm where the router supports it (1.5), and read back to check the
 * router holds exactly what was rendered. Several routers are all-or-nothing: the caller rolls back
 * every router touched when one fails. Transient errors (lock, 5xx, timeout) retry with backoff, and
 * every retry re-reads the router first: a change that already landed is never sent twice.
 *
 * The rollout state (`RolloutState`) is persisted through `persist()` before every router call, so
 * a process killed at any point can finish or roll back from what the routers hold (see service.ts).
 */
import { RealClock, type Clock } from '../core/clock.ts';
import type { Topology } from '../core/config/topology.ts';
import { PathpilotError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Intent } from '../core/proposal.ts';
import { contextPaths, contextsFor, pathsFor, renderRouter, type PreState, type TouchedSubtree } from './render.ts';
import { diffOps, pathKey, sameConfig, withSubtree } from './vyos/diff.ts';
import { nodeAt } from './vyos/tree.ts';
import { validateOps } from './vyos/paths.ts';
import { fenceRouter } from './lease.ts';
import { CapabilityCache } from './vyos/capabilities.ts';
import {
  RouterDriftError,
  driftedPaths,
  reachableSteps,
  recordedSteps,
  snapshotStep,
  type KnownState,
  type Subtrees,
} from './pipeline/drift.ts';
import {
  VyosHttpError,
  VyosLockedError,
  VyosRejectedError,
  VyosUnreachableError,
  type ConfigJson,
  type ConfigOp,
  type RouterApi,
} from './vyos/types.ts';

export interface RouterRollout {
  /** Config under the context paths before the change. */
  pre: PreState;
  /** Subtrees this rollout touches, with their content before the change (null: absent). */
  snapshots: { path: string[]; before: ConfigJson | null }[];
  /** Highest step index known committed and verified on this router (−1: none). */
  applied: number;
  /** A request for this step was sent (or about to be) and its outcome is not known yet. */
  inFlight: number | null;
  /** A commit-confirm timer is armed and not yet confirmed. */
  confirmPending: boolean;
  /** When the armed timer fires (the engine's clock, set just before the request is sent). */
  confirmDeadline?: number;
  /** Ops sent per step (audit). */
  ops: Record<string, ConfigOp[]>;
}

export interface RolloutState {
  steps: number[];
  /** Index of the step being applied or baked. */
  step: number;
  phase: 'preparing' | 'applying' | 'baking' | 'rolling-back' | 'confirming' | 'done';
  order: string[];
  routers: Record<string, RouterRollout>;
  startedAt: number;
  rollbackReason?: string;
}

export interface EngineOptions {
  topology: Topology;
  routerFor: (site: string) => RouterApi;
  lanInterface: string;
  /**
   * Arm commit-confirm on routers whose probe says it works, for this many minutes (the bake plus
   * margin; routers applied later in the same step add their commit time). 0 = never.
   */
  confirmMinutes: number;
  /** How long one commit may take (the clients' commit timeout): the timer allows it per later router. */
  commitTimeoutMs?: number;
  /** Probed router capabilities, shared by every engine of the process (see `fenced`). */
  capabilities?: CapabilityCache;
  retry: { attempts: number; baseMs: number; maxMs: number };
  /** Backoff sleeps: wall time (network), not the lab clock. */
  retryClock?: Clock;
  /** The routers' time, for commit-confirm deadlines (the lab clock under `npm start`). @defaultValue real time */
  clock?: Clock;
  log?: Logger;
}

/** One router's failure inside a step: the caller rolls the change set back. */
export class RouterStepError extends PathpilotError {
  constructor(
    readonly router: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PP_ERR_ROLLBACK_REQUIRED', `router ${router}: ${message}`, options);
    this.name = 'RouterStepError';
  }
}

export function isTransient(err: unknown): boolean {
  return (
    err instanceof VyosLockedError || err instanceof VyosUnreachableError || (err instanceof VyosHttpError && err.status >= 500)
  );
}

export function routersOf(intents: readonly Intent[]): string[] {
  return [...new Set(intents.map((i) => i.router))].sort();
}

/** What a resumed rollout finds on one router, compared with its record (see `Engine.inspect`). */
export type RouterFinding =
  /** The touched subtrees hold what the record says was last applied (or the snapshot, nothing applied yet). */
  | { router: string; kind: 'as-recorded' }
  /** The router holds an earlier state than recorded: its commit-confirm timer reverted it, or a reboot did. */
  | { router: string; kind: 'reverted' }
  /** Neither the snapshot nor any step's config: someone else changed it. A human decides. */
  | { router: string; kind: 'drift'; paths: string[] };

export class Engine {
  private readonly retryClock: Clock;
  private readonly clock: Clock;
  readonly capabilities: CapabilityCache;
  constructor(private readonly o: EngineOptions) {
    this.retryClock = o.retryClock ?? new RealClock();
    this.clock = o.clock ?? new RealClock();
    this.capabilities = o.capabilities ?? new CapabilityCache(o.log ? { log: o.log } : {});
  }

  /** The same engine with every router write behind `fence` (the rollout lease check). */
  fenced(fence: () => Promise<void>): Engine {
    const routerFor = this.o.routerFor;
    return new Engine({ ...this.o, capabilities: this.capabilities, routerFor: (site) => fenceRouter(routerFor(site), fence) });
  }

  /**
   * Minutes of the timer armed on `router` in this step: it runs from this router's commit until the
   * guard passed and it is confirmed, so it covers the routers still to commit after it, the bake
   * and the margin (`confirmMinutes`).
   */
  private armMinutes(state: RolloutState, router: string): number {
    const later = state.order.length - 1 - state.order.indexOf(router);
    return this.o.confirmMinutes + Math.ceil((later * (this.o.commitTimeoutMs ?? 0)) / 60_000);
  }

  /** Routers whose armed commit-confirm timer has fired by now (the router reverted, or soon will). */
  confirmWindowPassed(state: RolloutState): string[] {
    const now = this.clock.now();
    return state.order.filter((router) => {
      const r = state.routers[router]!;
      return r.confirmPending && r.confirmDeadline !== undefined && r.confirmDeadline <= now;
    });
  }

  /**
   * Reads each router's touched subtrees and compares them with the record: what was last applied
   * (or is in flight), an earlier step or the snapshot (reverted), or neither (drift). Pure reads.
   */
  async inspect(intents: readonly Intent[], state: RolloutState): Promise<RouterFinding[]> {
    const out: RouterFinding[] = [];
    for (const router of state.order) {
      const r = state.routers[router]!;
      const running = await this.readSubtrees(router, state);
      const statesOf = (steps: number[]) => steps.map((k) => this.stateAt(intents, state, router, k));
      if (driftedPaths(running, statesOf(recordedSteps(r))).length === 0) {
        out.push({ router, kind: 'as-recorded' });
        continue;
      }
      // Only states this rollout put there, some earlier than recorded: a timer or a reboot went back.
      const paths = driftedPaths(running, statesOf(reachableSteps(r)));
      out.push(paths.length === 0 ? { router, kind: 'reverted' } : { router, kind: 'drift', paths });
    }
    return out;
  }

  /**
   * The touched subtrees of `router` that hold something this rollout never put there (drift), read
   * now: before a step, compared with what the record says it holds (the last applied step, one in
   * flight, or the snapshot); before a restore, with every state it may have reached (the snapshot or
   * any step so far: a commit-confirm timer or a partial commit lands on an earlier one). Pure reads.
   */
  async driftOf(intents: readonly Intent[], state: RolloutState, router: string, before: 'step' | 'restore'): Promise<string[]> {
    const r = state.routers[router]!;
    const steps = before === 'step' ? recordedSteps(r) : reachableSteps(r);
    return driftedPaths(
      await this.readSubtrees(router, state),
      steps.map((k) => this.stateAt(intents, state, router, k)),
    );
  }

  /** What `router`'s touched subtrees hold at step `k` (the rendered config), or in the snapshot (k = −1). */
  private stateAt(intents: readonly Intent[], state: RolloutState, router: string, k: number): KnownState {
    const r = state.routers[router]!;
    if (k === snapshotStep) return { name: 'snapshot', holds: new Map(r.snapshots.map((s) => [pathKey(s.path), s.before])) };
    const mine = intents.filter((i) => i.router === router);
    const desired = this.render(mine, state.steps[k]!, r.pre, router);
    return { name: `step ${k + 1}`, holds: new Map(desired.map((d) => [pathKey(d.path), d.desired])) };
  }

  /** Each touched subtree of `router` as it holds it now. */
  private async readSubtrees(router: string, state: RolloutState): Promise<Subtrees> {
    const running: Subtrees = new Map();
    for (const s of state.routers[router]!.snapshots) running.set(pathKey(s.path), await this.read(router, s.path));
    return running;
  }

  /** Runs `fn` with retries on transient errors; `fn` must be safe to repeat (re-reads first). */
  async withRetry<T>(router: string, what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    let attempt = 0;
    for (;;) {
      try {
        return await fn(attempt);
      } catch (err) {
        attempt++;
        if (!isTransient(err) || attempt >= this.o.retry.attempts) throw err;
        const ms = Math.min(this.o.retry.maxMs, this.o.retry.baseMs * 2 ** (attempt - 1));
        this.o.log?.warn({ router, what, attempt, err: errorMessage(err) }, 'transient router error, retrying');
        await this.retryClock.sleep(ms);
      }
    }
  }

  private async read(router: string, path: string[]): Promise<ConfigJson | null> {
    return this.withRetry(router, `read ${pathKey(path)}`, () => this.o.routerFor(router).showConfig(path));
  }

  /** Reads the context and snapshots the touched subtrees of every router. Pure reads. */
  async prepare(intents: readonly Intent[], steps: number[], now: number): Promise<RolloutState> {
    const order = routersOf(intents);
    const routers: Record<string, RouterRollout> = {};
    for (const router of order) {
      const mine = intents.filter((i) => i.router === router);
      const pre: PreState = {};
      for (const name of contextsFor(mine)) pre[name] = await this.read(router, [...contextPaths[name]]);
      for (const path of pathsFor(mine)) (pre.paths ??= {})[pathKey(path)] = await this.read(router, path);
      const touched = this.render(mine, 1, pre, router);
      const snapshots: RouterRollout['snapshots'] = [];
      for (const t of touched) snapshots.push({ path: t.path, before: await this.read(router, t.path) });
      routers[router] = { pre, snapshots, applied: -1, inFlight: null, confirmPending: false, ops: {} };
    }
    return { steps, step: 0, phase: 'applying', order, routers, startedAt: now };
  }

  /**
   * Each router's whole running config now and as it would be once the intents are fully applied (f = 1):
   * what a pre-change assessment judges. Pure reads; nothing is sent to a router.
   */
  async preview(intents: readonly Intent[]): Promise<Map<string, { before: ConfigJson; after: ConfigJson }>> {
    const out = new Map<string, { before: ConfigJson; after: ConfigJson }>();
    for (const router of routersOf(intents)) {
      const mine = intents.filter((i) => i.router === router);
      const before = (await this.read(router, [])) ?? {};
      const pre: PreState = {};
      for (const name of contextsFor(mine)) {
        const n = nodeAt(before, ...contextPaths[name]);
        pre[name] = n && typeof n === 'object' && !Array.isArray(n) ? n : null;
      }
      for (const path of pathsFor(mine)) {
        const n = nodeAt(before, ...path);
        (pre.paths ??= {})[pathKey(path)] = n && typeof n === 'object' && !Array.isArray(n) ? n : null;
      }
      let after = before;
      for (const t of this.render(mine, 1, pre, router)) after = withSubtree(after, t.path, t.desired);
      out.set(router, { before, after });
    }
    return out;
  }

  render(intents: readonly Intent[], f: number, pre: PreState, router: string): TouchedSubtree[] {
    return renderRouter(intents, f, pre, { topology: this.o.topology, router, lanInterface: this.o.lanInterface });
  }

  private async currentOps(router: string, desired: TouchedSubtree[]): Promise<ConfigOp[]> {
    const ops: ConfigOp[] = [];
    for (const t of desired) ops.push(...diffOps(t.path, await this.read(router, t.path), t.desired));
    return ops;
  }

  private async verify(router: string, expected: { path: string[]; config: ConfigJson | null }[]): Promise<string[]> {
    const wrong: string[] = [];
    for (const e of expected) if (!sameConfig(await this.read(router, e.path), e.config)) wrong.push(pathKey(e.path));
    return wrong;
  }

  /**
   * Applies step `state.step` to one router: re-reads, sends the diff (if any) in one request,
   * verifies. `persist` runs before the request is sent.
   */
  async applyRouter(
    intents: readonly Intent[],
    state: RolloutState,
    router: string,
    persist: () => Promise<void>,
  ): Promise<{ ops: ConfigOp[]; sent: boolean }> {
    const r = state.routers[router]!;
    const api = this.o.routerFor(router);
    const f = state.steps[state.step]!;
    const desired = this.render(
      intents.filter((i) => i.router === router),
      f,
      r.pre,
      router,
    );
    let sentOps: ConfigOp[] = [];
    let sent = false;
    try {
      await this.withRetry(router, 'configure', async () => {
        // Re-read every time: after a timeout the change may have landed; then there is nothing to send.
        const ops = await this.currentOps(router, desired);
        if (ops.length === 0) return;
        validateOps(api.version, ops);
        if (r.confirmPending) {
          // A previous step's timer is still armed (a restart between commit and confirm): stop it first.
          await api.confirm();
          r.confirmPending = false;
        }
        // Probed, not assumed from the version: a 1.5 image before June 2025 ignores confirm_time, and
        // this rollout then relies on its snapshots alone (the 1.4 path).
        const arm = this.o.confirmMinutes > 0 && (await this.capabilities.of(router, api)).commitConfirm;
        const minutes = this.armMinutes(state, router);
        r.inFlight = state.step;
        r.ops[String(state.step)] = ops;
        if (arm) {
          r.confirmPending = true;
          r.confirmDeadline = this.clock.now() + minutes * 60_000;
        }
        await persist();
        sentOps = ops;
        sent = true;
        try {
          const answer = await api.configure(ops, arm ? { confirmTime: minutes } : undefined);
          // What the armed timer will really do is in the answer (`… before reload|reboot`).
          if (arm) await this.capabilities.noteArmed(router, answer);
        } catch (err) {
          // A refused commit armed nothing: a later `confirm` from us would stop someone else's timer.
          if (err instanceof VyosRejectedError && r.confirmPending) {
            r.confirmPending = false;
            delete r.confirmDeadline;
            await persist();
          }
          throw err;
        }
      });
    } catch (err) {
      this.capabilities.noteError(router, err);
      throw new RouterStepError(router, `step ${state.step + 1} failed: ${errorMessage(err)}`, { cause: err });
    }
    const wrong = await this.verify(
      router,
      desired.map((d) => ({ path: d.path, config: d.desired })),
    );
    if (wrong.length > 0) throw new RouterStepError(router, `after commit the router does not hold: ${wrong.join('; ')}`);
    r.applied = state.step;
    r.inFlight = null;
    await persist();
    return { ops: sentOps, sent };
  }

  /** Stops the commit-confirm timers armed by the current step (guard passed). */
  async confirmRouter(state: RolloutState, router: string, persist: () => Promise<void>): Promise<void> {
    const r = state.routers[router]!;
    if (!r.confirmPending) return;
    const api = this.o.routerFor(router);
    const res = await this.withRetry(router, 'confirm', () => api.confirm()).catch((err: unknown) => {
      this.capabilities.noteError(router, err);
      throw err;
    });
    if (!res.confirmed) {
      // The timer already fired: the router went back on its own. Check before trusting anything.
      throw new RouterStepError(router, `commit-confirm was no longer pending (${res.message.trim() || 'no message'})`);
    }
    r.confirmPending = false;
    await persist();
  }

  /**
   * Restores one router's snapshots exactly (one `/configure` with the diff back to the snapshot),
   * stops an armed confirm timer, and checks the router matches. Idempotent. With `guard.intents`,
   * first compares the touched subtrees with every state this rollout may have left there: drift
   * throws `RouterDriftError` and nothing is sent (without it, an admin chose to overwrite).
   */
  async restoreRouter(
    state: RolloutState,
    router: string,
    persist: () => Promise<void>,
    guard?: { intents: readonly Intent[] },
  ): Promise<ConfigOp[]> {
    const r = state.routers[router]!;
    const api = this.o.routerFor(router);
    if (guard) {
      const paths = await this.driftOf(guard.intents, state, router, 'restore');
      if (paths.length > 0) throw new RouterDriftError({ router, paths });
    }
    let sentOps: ConfigOp[] = [];
    await this.withRetry(router, 'restore', async () => {
      const ops: ConfigOp[] = [];
      for (const s of r.snapshots) ops.push(...diffOps(s.path, await this.read(router, s.path), s.before));
      if (ops.length === 0) return;
      validateOps(api.version, ops);
      sentOps = ops;
      await api.configure(ops);
    });
    if (r.confirmPending) {
      await this.withRetry(router, 'confirm', () => api.confirm());
      r.confirmPending = false;
    }
    const wrong = await this.verify(
      router,
      r.snapshots.map((s) => ({ path: s.path, config: s.before })),
    );
    if (wrong.length > 0) throw new RouterStepError(router, `restore did not take: ${wrong.join('; ')}`);
    r.applied = -1;
    r.inFlight = null;
    await persist();
    return sentOps;
  }

  /** `set …` lines of a router's running config (GitOps export). */
  async exportConfig(router: string): Promise<string> {
    const text = await this.withRetry(router, 'export', () => this.o.routerFor(router).show(['configuration', 'commands']));
    return text.endsWith('\n') ? text : `${text}\n`;
  }

  async save(router: string): Promise<void> {
    await this.withRetry(router, 'save', () => this.o.routerFor(router).saveConfig());
  }
}
