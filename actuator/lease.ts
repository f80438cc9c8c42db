/**
 * The rollout lease: one actuator at a time drives (or resumes) a proposal's rollout.
 *
 * `RolloutLease.acquire()` takes the lease from the state store (Redis `SET NX PX`, see state.ts)
 * together with a fencing token, a number greater than every token handed out before it. While the
 * rollout runs, a timer renews the lease (compare-and-set on the token), and every router write goes
 * through `check()` first (see `fenceRouter`): the token must still be the one the store holds. A
 * lease that is lost — taken over after expiry, or not renewable before its deadline because the
 * store is unreachable — aborts `signal` and makes every later `check()` throw `LeaseLostError`, so
 * the rollout stops without touching a router or writing its record again.
 *
 * Why a deadline and not just "renew failed": while the store cannot be reached we cannot know
 * whether another actuator took over, but we do know nobody can before our TTL runs out. Until then
 * `check()` waits and retries (backoff), so a short store blip only pauses the rollout.
 */
import { errorMessage, PathpilotError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ConfigJson, ConfigOp, ConfigureOptions, ConfirmResult, RouterApi } from './vyos/types.ts';

/** The lease operations a state store offers (memory for unit tests and `npm start`, Redis in production). */
export interface LeaseStore {
  /** Takes the lease of `id` when free: a fencing token, or undefined when another holder has it. */
  acquireLease(id: string, ttlMs: number): Promise<number | undefined>;
  /** Extends the lease while it is held with `token`; false when it expired or someone else holds it. */
  renewLease(id: string, token: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up when it is still held with `token` (a no-op otherwise). */
  releaseLease(id: string, token: number): Promise<void>;
}

export interface LeaseOptions {
  /** Lease time to live; a killed holder's rollout is free for another actuator after this long. */
  ttlMs: number;
  /** Renewal period. @defaultValue ttlMs / 3 */
  renewMs?: number;
  log?: Logger;
}

/** The lease of a rollout was lost: the rollout stops and touches nothing more. */
export class LeaseLostError extends PathpilotError {
  constructor(
    readonly proposalId: string,
    reason: string,
  ) {
    super('PP_ERR_CONFLICT', `rollout lease of ${proposalId} lost: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

/** True when `err` or one of its causes is a lost lease (router errors wrap it). */
export function isLeaseLost(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++)
    if (e instanceof LeaseLostError) return true;
  return false;
}

export class RolloutLease {
  private readonly controller = new AbortController();
  private lostReason: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Fires when the TTL runs out without a confirmed renewal: nobody may act on the lease after it. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  /** Rejects once the lease is lost: store calls that hang (store down) never outlive the lease. */
  private readonly lostPromise: Promise<never>;

  private constructor(
    private readonly store: LeaseStore,
    readonly proposalId: string,
    readonly token: number,
    private readonly o: LeaseOptions,
    takenAt: number,
  ) {
    this.lostPromise = new Promise<never>((_, reject) =>
      this.controller.signal.addEventListener('abort', () => reject(this.lostError()), { once: true }),
    );
    this.lostPromise.catch(() => undefined);
    this.extend(takenAt);
    const every = Math.max(50, o.renewMs ?? Math.floor(o.ttlMs / 3));
    this.renewTimer = setInterval(() => void this.renewOnce(), every);
    this.renewTimer.unref();
  }

  /** Takes the lease of a proposal's rollout; undefined when another actuator holds it. */
  static async acquire(store: LeaseStore, proposalId: string, o: LeaseOptions): Promise<RolloutLease | undefined> {
    const takenAt = Date.now();
    const token = await store.acquireLease(proposalId, o.ttlMs);
    return token === undefined ? undefined : new RolloutLease(store, proposalId, token, o, takenAt);
  }

  /** Aborted when the lease is lost (a bake waiting on it stops). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  lostError(): LeaseLostError {
    return new LeaseLostError(this.proposalId, this.lostReason ?? 'released');
  }

  /** Gives the lease up as lost (a fenced write was refused): nothing more is sent under it. */
  markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.stopTimers();
    this.o.log?.warn({ proposal: this.proposalId, token: this.token, reason }, 'rollout lease lost; the rollout stops here');
    this.controller.abort(this.lostError());
  }

  /**
   * A renewal asked at `askedAt` was confirmed: the store keeps the key at least until
   * askedAt + TTL (the request was sent after askedAt), so that is when the local deadline falls.
   */
  private extend(askedAt: number): void {
    if (this.lost) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => this.markLost('no renewal confirmed within the lease TTL (state store unreachable)'),
      Math.max(0, askedAt + this.o.ttlMs - Date.now()),
    );
    this.deadlineTimer.unref();
  }

  private stopTimers(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }

  /** One renewal round trip, abandoned when the lease is lost meanwhile. */
  private async renewAt(): Promise<boolean> {
    const askedAt = Date.now();
    const ok = await Promise.race([this.store.renewLease(this.proposalId, this.token, this.o.ttlMs), this.lostPromise]);
    if (ok) this.extend(askedAt);
    else this.markLost('the store holds another token (expired and taken over)');
    return ok;
  }

  private renewOnce(): Promise<void> {
    if (this.renewing) return this.renewing;
    this.renewing = (async () => {
      if (this.lost) return;
      try {
        await this.renewAt();
      } catch {
        // Unreachable store: the deadline timer decides when that loses the lease.
      }
    })().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /**
   * Passes while the lease is held with this token (renewing it); waits with backoff while the
   * store cannot be reached, and throws `LeaseLostError` once the lease is lost or its deadline passed.
   */
  async check(): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (this.lost) throw this.lostError();
      try {
        if (await this.renewAt()) return;
      } catch (err) {
        if (this.lost) throw this.lostError();
        this.o.log?.warn({ proposal: this.proposalId, err: errorMessage(err) }, 'lease check: state store unreachable, waiting');
        const pause = new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
        await Promise.race([pause, this.lostPromise]).catch(() => undefined);
      }
    }
    this.markLost('lease check gave up');
    throw this.lostError();
  }

  /** Stops renewing and frees the lease for the next actuator (best effort: it expires anyway). */
  async release(): Promise<void> {
    this.stopTimers();
    if (this.lost) return;
    this.lostReason = 'released';
    this.controller.abort(this.lostError());
    try {
      await this.store.releaseLease(this.proposalId, this.token);
    } catch (err) {
      this.o.log?.warn({ proposal: this.proposalId, err: errorMessage(err) }, 'lease release failed; it expires on its own');
    }
  }
}

/**
 * The router with every write (configure, confirm, section/file loads, save) behind `fence`:
 * reads pass straight through, a write is sent only after the lease check passed.
 */
export function fenceRouter(api: RouterApi, fence: () => Promise<void>): RouterApi {
  return {
    get url() {
      return api.url;
    },
    get version() {
      return api.version;
    },
    showConfig: (path?: string[]) => api.showConfig(path),
    returnValue: (path: string[]) => api.returnValue(path),
    returnValues: (path: string[]) => api.returnValues(path),
    exists: (path: string[]) => api.exists(path),
    show: (path: string[]) => api.show(path),
    info: () => api.info(),
    generateWireguardKeypair: async () => {
      await fence();
      return api.generateWireguardKeypair();
    },
    configure: async (ops: ConfigOp[], options?: ConfigureOptions) => {
      await fence();
      return api.configure(ops, options);
    },
    confirm: async (): Promise<ConfirmResult> => {
      await fence();
      return api.confirm();
    },
    configureSection: async (path: string[], section: ConfigJson, mode: 'set' | 'load', options?: ConfigureOptions) => {
      await fence();
      return api.configureSection(path, section, mode, options);
    },
    saveConfig: async (file?: string) => {
      await fence();
      return api.saveConfig(file);
    },
    loadConfigFile: async (file: string, options?: ConfigureOptions) => {
      await fence();
      return api.loadConfigFile(file, options);
    },
  };
}
