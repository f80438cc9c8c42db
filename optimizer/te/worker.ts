import { parentPort } from 'node:worker_threads';
import { highs } from './highs.ts';
import { runLp, type LpJob, type LpOutcome } from './model.ts';

/** TE sub-problem worker (see pool.ts): solves one LP job at a time on its own HiGHS runtime. */
parentPort!.on('message', (msg: { id: number; job: LpJob }) => {
  highs()
    .then((h) => {
      const out = runLp(h, msg.job);
      const transfer: ArrayBuffer[] = [];
      if (out.colValue) transfer.push(out.colValue.buffer as ArrayBuffer);
      if (out.basis) transfer.push(out.basis.colStatus.buffer as ArrayBuffer, out.basis.rowStatus.buffer as ArrayBuffer);
      parentPort!.postMessage({ id: msg.id, ok: true, out } satisfies WorkerReply, transfer);
    })
    .catch((err: unknown) => {
      parentPort!.postMessage({
        id: msg.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies WorkerReply);
    });
});

export type WorkerReply = { id: number; ok: true; out: LpOutcome } | { id: number; ok: false; error: string };
