import { parentPort, workerData } from 'node:worker_threads';
import { createSegmentProcessor, type SegmentSetup } from './segment.ts';

/** Billing worker thread: maps CSV segments to encoded cost messages (see parallel.ts). */
const process = createSegmentProcessor(workerData as SegmentSetup);
parentPort!.on('message', (msg: { seq: number; data: Uint8Array; firstLine: number; final: boolean }) => {
  try {
    const text = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8');
    const result = process(msg.seq, text, msg.firstLine, msg.final);
    parentPort!.postMessage(
      { ok: true, result },
      result.messages.map((m) => m.value.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort!.postMessage({ ok: false, seq: msg.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
