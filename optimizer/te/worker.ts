import { parentPort } from 'node:worker_threads';
import { highs } from './highs.ts';
import { runLp, type LpJob, type LpOutcome } from './model.ts';

/** TE sub-problem worker (see pool.ts): solves one LP job at a time on its own HiGHS runtime. */
parentPort!.on('message', (msg: { id: number; job: LpJob }) => {
  highs()
    .then((h) => {
      const out = runLp(h, msg.job);
      // Transfer the result arrays rather than copy them (a buffer listed twice would throw: a Set).
      const transfer = new Set<ArrayBuffer>();
      for (const a of [out.colValue, out.rowDual, out.basis?.colStatus, out.basis?.rowStatus])
        if (a) transfer.add(a.buffer as ArrayBuffer);
      parentPort!.postMessage({ id: msg.id, ok: true, out } satisfies WorkerReply, [...transfer]);
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
