import { parentPort, workerData } from 'node:worker_threads';
import { createSegmentProcessor, decodeSegment, type SegmentSetup } from './segment.ts';

/** Billing worker thread: maps CSV segments to encoded cost messages (see parallel.ts). */
const setup = workerData as SegmentSetup;
const process = createSegmentProcessor(setup);
parentPort!.on('message', (msg: { seq: number; data: Uint8Array; firstLine: number; final: boolean }) => {
  try {
    const text = decodeSegment(setup, msg.data, msg.firstLine);
    const result = process(msg.seq, text, msg.firstLine, msg.final);
    parentPort!.postMessage(
      { ok: true, result },
      result.messages.map((m) => m.value.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort!.postMessage({ ok: false, seq: msg.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
