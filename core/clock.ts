import { Activity, type SettleOptions } from './activity.ts';

/**
 * Time source for every part. Real time by default; the lab drives a SimulatedClock so a week of
 * network life runs in minutes, and bake times, windows and timers follow it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void>;
}

export interface SleepOptions {
  /**
   * A frequent housekeeping wake-up (a collector's batch linger) whose work no decision waits for at
   * that instant: a lockstep clock does not settle after it, only before the next decision.
   */
  background?: boolean;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface SimTimer {
  at: number;
  seq: number;
  background: boolean;
  fire: () => void;
}

/**
 * A clock that only moves when told to. `advance()` moves time forward and fires due timers in
 * order, yielding to the event loop between them so awaiting code runs at the simulated instant.
 * In lockstep (`lockstep()`), it waits between timers until the work each one set off has settled
 * (activity.ts): a run's result then depends on the simulated time only, not on the machine's speed.
 */
export class SimulatedClock implements Clock {
  /** The work in flight, tracked for lockstep runs (a sleeping task is parked, not busy). */
  readonly activity = new Activity();
  private current: number;
  private timers: SimTimer[] = [];
  private seq = 0;
  private lockstepOptions: (SettleOptions & { onTimeout(busy: string[]): void }) | undefined;
  private unlocked = new AbortController();

  constructor(startMs: number = Date.UTC(2026, 0, 5, 0, 0, 0)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const wake = this.activity.park();
      const timer: SimTimer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        background: options?.background ?? false,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          wake();
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        wake();
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /**
   * From now on, time moves only once the work of the last instant settled (or `timeoutMs` of wall
   * time passed: the run goes on and `onTimeout` hears what was still busy).
   */
  lockstep(options: SettleOptions & { onTimeout(busy: string[]): void }): void {
    this.unlocked = new AbortController();
    this.lockstepOptions = { ...options, signal: this.unlocked.signal };
  }

  /** Leaves lockstep, ending any wait in progress (a stopping run: its work will not settle any more). */
  unlock(): void {
    this.lockstepOptions = undefined;
    this.unlocked.abort();
  }

  /** Waits for the current instant's work: settled work in lockstep, a turn of the event loop otherwise. */
  async settle(): Promise<void> {
    const o = this.lockstepOptions;
    if (!o) return flushMicrotasks();
    const busy = await this.activity.settle(o);
    if (busy) o.onTimeout(busy);
  }

  /** Number of sleepers waiting on this clock. */
  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /**
   * Moves time to `targetMs`, firing each due timer at its own instant (in time order; at one instant,
   * background timers first, then in the order the sleeps began). In lockstep, the work a decision timer
   * set off settles before the next decision timer fires and before this returns; background timers
   * only get a turn of the event loop.
   */
  async advanceTo(targetMs: number): Promise<void> {
    // Work since the last advance (a twin tick's data on its way to the store) settles before a decision.
    let unsettled = true;
    let fired = false;
    for (;;) {
      await flushMicrotasks();
      let next: SimTimer | undefined;
      for (const t of this.timers) if (t.at <= targetMs && (!next || earlier(t, next))) next = t;
      if (!next) break;
      if (!next.background && unsettled) {
        // Settling may start new sleeps that are due sooner: pick again afterwards.
        await this.settle();
        unsettled = false;
        continue;
      }
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
      if (!next.background) unsettled = fired = true;
    }
    this.current = Math.max(this.current, targetMs);
    if (fired && unsettled) await this.settle();
    else await flushMicrotasks();
  }
}

function earlier(a: SimTimer, b: SimTimer): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.background !== b.background) return a.background;
  return a.seq < b.seq;
}

/**
 * Runs `fn` as tracked work of a simulated clock (activity.ts), so a lockstep run waits for it; on a
 * real clock it just runs `fn`.
 */
export function busyWhile<T>(clock: Clock, name: string, fn: () => Promise<T>): Promise<T> {
  return clock instanceof SimulatedClock ? clock.activity.run(name, fn) : fn();
}

/** Lets promise continuations (and one macrotask turn) run before time moves again. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
