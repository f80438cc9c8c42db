/**
 * What the process is doing between two instants of a simulated clock, so a lockstep run can wait for
 * "everything that this instant set off has finished, or is asleep on the clock" before time moves.
 *
 * Why: a bounded demo must give the same summary on a busy or a quiet machine (the same command twice,
 * the same result). That holds only if every decision at simulated time t sees the same inputs and lands
 * at the same simulated instant, which a wall-paced twin cannot promise: the optimizer's query, a rollout's
 * commit or a sink's INSERT would land a variable number of ticks later. In lockstep the clock moves only
 * when the work is settled.
 *
 * Work is tracked two ways:
 * - **tasks**: `run(name, fn)` marks the async work of `fn` (and everything it awaits, through
 *   AsyncLocalStorage) busy until it resolves; a task asleep on the simulated clock is parked, not busy.
 *   Entry points wrap their work: bus handlers and queue jobs (settling.ts), the optimizer's scheduled run,
 *   rollouts, the self-heal pass.
 * - **pending sources**: counts of work handed over but not yet picked up (messages published and not
 *   consumed, jobs waiting, datagrams sent and not received), which no task holds in between.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

interface Task {
  readonly name: string;
  /** Sleeps on the simulated clock this task is waiting in. */
  parked: number;
  /** Child tasks alive (a parent awaiting a parked child is not busy). */
  children: number;
}

export interface PendingSource {
  readonly name: string;
  /** Units of work handed over and not yet picked up; 0 when there is none. */
  pending(): number | Promise<number>;
}

export interface SettleOptions {
  /** Give up after this much wall time (the run goes on; the caller is told what was still busy). */
  timeoutMs: number;
  /** Consecutive quiet event-loop turns needed: covers the hand-over gaps between tracked parts. */
  quietTurns?: number;
  /** Stops waiting at once (the run is stopping: its work will not settle any more). */
  signal?: AbortSignal;
}

const noop = (): void => {};
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Activity {
  private readonly als = new AsyncLocalStorage<Task>();
  private readonly tasks = new Set<Task>();
  private readonly sources = new Set<PendingSource>();

  /** Runs `fn` as a task: busy until it settles, except while it sleeps on the simulated clock. */
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const parent = this.als.getStore();
    const task: Task = { name, parked: 0, children: 0 };
    this.tasks.add(task);
    if (parent) parent.children++;
    try {
      return await this.als.run(task, fn);
    } finally {
      this.tasks.delete(task);
      if (parent) parent.children--;
    }
  }

  /** Called when the current async context starts sleeping on the clock; returns its wake-up. */
  park(): () => void {
    const task = this.als.getStore();
    if (!task) return noop;
    task.parked++;
    let woken = false;
    return () => {
      if (woken) return;
      woken = true;
      task.parked--;
    };
  }

  /** Registers a count of handed-over work; returns its removal. */
  addSource(source: PendingSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** What is busy now: task names, and `source=count` for sources with pending work. */
  async busy(): Promise<string[]> {
    const out: string[] = [];
    for (const t of this.tasks) if (t.parked === 0 && t.children === 0) out.push(t.name);
    for (const s of this.sources) {
      const n = await s.pending();
      if (n > 0) out.push(`${s.name}=${n}`);
    }
    return out;
  }

  /**
   * Resolves once nothing is busy for `quietTurns` event-loop turns in a row (undefined), or with what
   * was still busy when `timeoutMs` of wall time ran out.
   */
  async settle(options: SettleOptions): Promise<string[] | undefined> {
    const quietTurns = options.quietTurns ?? 3;
    const deadline = performance.now() + options.timeoutMs;
    let quiet = 0;
    for (;;) {
      await nextTurn();
      if (options.signal?.aborted) return undefined;
      const busy = await this.busy();
      if (busy.length === 0) {
        if (++quiet >= quietTurns) return undefined;
        continue;
      }
      quiet = 0;
      if (performance.now() > deadline) return busy;
      // Busy on I/O (an HTTP call, an INSERT): poll gently instead of spinning the event loop.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}
