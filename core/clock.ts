/**
 * Time source for every part. Real time by default; the lab drives a SimulatedClock so a week of
 * network life runs in minutes, and bake times, windows and timers follow it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
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
  fire: () => void;
}

/**
 * A clock that only moves when told to. `advance()` moves time forward and fires due timers in
 * order, yielding to the event loop between them so awaiting code runs at the simulated instant.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private timers: SimTimer[] = [];
  private seq = 0;

  constructor(startMs: number = Date.UTC(2026, 0, 5, 0, 0, 0)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer: SimTimer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Number of sleepers waiting on this clock. */
  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing each due timer at its own instant. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      let next: SimTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= targetMs && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.current = Math.max(this.current, targetMs);
    await flushMicrotasks();
  }
}

/** Lets promise continuations (and one macrotask turn) run before time moves again. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
