import { Worker } from 'node:worker_threads';
import { PathpilotError } from '../../core/errors.ts';
import { highs } from './highs.ts';
import { runLp, type LpJob, type LpOutcome } from './model.ts';
import type { WorkerReply } from './worker.ts';

const workerUrl = new URL('./worker-entry.mjs', import.meta.url);

interface Slot {
  worker: Worker;
  busy: boolean;
}

/**
 * Solves LP jobs on `size` worker threads, each with its own HiGHS runtime (size 0: in this thread, one at a
 * time). Workers start on first use and are unref'd while idle, so an idle pool never keeps the process alive.
 */
export class LpPool {
  private readonly slots: Slot[] = [];
  private readonly queue: { job: LpJob; resolve: (o: LpOutcome) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { slot: Slot; resolve: (o: LpOutcome) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number) {}

  run(job: LpJob): Promise<LpOutcome> {
    if (this.closed) return Promise.reject(new PathpilotError('PP_ERR_SERVICE', 'LP pool is closed'));
    if (this.size <= 0) return highs().then((h) => runLp(h, job));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const { job, resolve, reject } = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = true;
      slot.worker.ref();
      this.pending.set(id, { slot, resolve, reject });
      // The model arrays are not needed here once posted: transfer them instead of copying (a Set: they may
      // share one buffer, and a buffer listed twice cannot be posted).
      const transfer = new Set(
        [job.colCost, job.colLower, job.colUpper, job.rowLower, job.rowUpper, job.starts, job.indices, job.values].map(
          (a) => a.buffer as ArrayBuffer,
        ),
      );
      slot.worker.postMessage({ id, job }, [...transfer]);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl, { execArgv: [] });
    const slot: Slot = { worker, busy: false };
    worker.on('message', (m: WorkerReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      slot.busy = false;
      worker.unref();
      if (p) {
        if (m.ok) p.resolve(m.out);
        else p.reject(new PathpilotError('PP_ERR_SERVICE', `TE worker: ${m.error}`));
      }
      this.pump();
    });
    worker.on('error', (err) => this.fail(slot, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, new Error(`TE worker exited with code ${code}`));
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private fail(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const [id, p] of this.pending)
      if (p.slot === slot) {
        this.pending.delete(id);
        p.reject(new PathpilotError('PP_ERR_SERVICE', `TE worker failed: ${err.message}`));
      }
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new PathpilotError('PP_ERR_SERVICE', 'LP pool closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
