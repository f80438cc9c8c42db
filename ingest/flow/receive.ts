import * as dgram from 'node:dgram';
import type { Worker } from 'node:worker_threads';
import { exporterAddress, openListener, type Listening, type ListenSpec } from './listen.ts';
import {
  startReceiverThread,
  type FromReceiver,
  type ReceiverInit,
  type ReceiverPriority,
  type SocketInfo,
  type ToReceiver,
} from './receiver.ts';

export interface DatagramSourceOptions {
  listen: ListenSpec[];
  /** SO_RCVBUF to ask for; 0 keeps the kernel's (or the supervisor's) setting. */
  rcvbufBytes: number;
  /** Read the sockets on a thread of their own (receiver.ts) instead of this thread. */
  thread: boolean;
  /** Bytes of slabs (of datagrams) the receiving thread may have handed over and not had back. */
  bufferBytes: number;
  /** SCHED_FIFO priority of the receiving thread (0: the normal class). */
  realtimePriority: number;
}

/** What start() opened: the sockets, and the receiving thread's priority (absent inline). */
export interface SourceListening {
  sockets: SocketInfo[];
  priority?: ReceiverPriority;
}

export interface DatagramHandlers {
  datagram(buf: Buffer, exporter: string): void;
  /** Datagrams the receiving thread dropped because `bufferBytes` were waiting. */
  overflow(datagrams: number, bytes: number): void;
  /** A listening socket reported an error (ICMP feedback, an interface gone): not fatal. */
  socketError(message: string): void;
}

/** The UDP listeners of the collector, on this thread or on a receiving thread. */
export interface DatagramSource {
  start(): Promise<SourceListening>;
  /** Closes the sockets; every datagram received before resolves has been handed over. */
  stop(): Promise<void>;
  /** Settles when the receiving thread ends: resolves after stop(), rejects if it died before. */
  done(): Promise<void>;
}

/** The receiving thread is small: a socket loop and the buffers in flight (bounded by bufferBytes). */
const RECEIVER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };
const BATCH_DATAGRAMS = 64;
const FLUSH_MS = 5;
/** Datagrams are copied into slabs of this size (≥ 65,535, the largest UDP payload). */
const SLAB_BYTES = 256 * 1024;
/** Longest the decoding thread works through received batches before it lets other I/O run, ms. */
const SLICE_MS = 4;

type Batch = Extract<FromReceiver, { type: 'batch' }>;

export function createDatagramSource(options: DatagramSourceOptions, on: DatagramHandlers): DatagramSource {
  return options.thread ? threadSource(options, on) : inlineSource(options, on);
}

function inlineSource(options: DatagramSourceOptions, on: DatagramHandlers): DatagramSource {
  const listening: Listening[] = [];
  let ended: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (ended = resolve));
  return {
    async start() {
      try {
        for (const spec of options.listen) listening.push(await openListener(dgram, spec, options.rcvbufBytes));
      } catch (err) {
        for (const l of listening) l.socket.close();
        throw err;
      }
      for (const l of listening) {
        l.socket.on('message', (msg, rinfo) => on.datagram(msg, exporterAddress(rinfo.address)));
        l.socket.on('error', (err) => on.socketError(err.message));
      }
      return { sockets: listening.map((l) => ({ address: l.address, port: l.port, rcvbuf: l.rcvbuf, kind: l.kind })) };
    },
    async stop() {
      await Promise.all(listening.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve()))));
      ended();
    },
    done: () => done,
  };
}

function threadSource(options: DatagramSourceOptions, on: DatagramHandlers): DatagramSource {
  let worker: Worker | undefined;
  let stopping = false;
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be waiting on done() (the thread never started): an unhandled rejection must not follow.
  done.catch(() => undefined);
  let stopped: () => void = () => undefined;
  const stoppedMessage = new Promise<void>((resolve) => (stopped = resolve));

  const handle = (msg: Batch) => {
    const slab = msg.slab;
    if (slab) {
      let at = 0;
      for (let i = 0; i < msg.lengths.length; i++) {
        const n = msg.lengths[i]!;
        // A view: nothing downstream keeps it (data waiting for its template is copied).
        on.datagram(Buffer.from(slab, at, n), msg.exporters[i]!);
        at += n;
      }
      // Back for reuse; any view still held elsewhere becomes empty, never wrong.
      worker?.postMessage({ type: 'slab', slab } satisfies ToReceiver, [slab]);
    }
    if (msg.overflow > 0) on.overflow(msg.overflow, msg.overflowBytes);
  };
  // Batches are decoded a few milliseconds at a time. The port hands over everything queued in one
  // go; decoding it all before returning to the event loop would keep the bus's socket waiting (Kafka
  // acks unread, the publish queue filling) exactly when the process is behind.
  const queued: Batch[] = [];
  let draining = false;
  const drain = () => {
    const end = performance.now() + SLICE_MS;
    while (queued.length > 0 && performance.now() < end) handle(queued.shift()!);
    if (queued.length > 0) setImmediate(drain);
    else draining = false;
  };
  const onBatch = (msg: Batch) => {
    queued.push(msg);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  };

  return {
    async start() {
      const init: ReceiverInit = {
        listen: options.listen,
        rcvbufBytes: options.rcvbufBytes,
        bufferBytes: options.bufferBytes,
        slabBytes: SLAB_BYTES,
        flushMs: FLUSH_MS,
        batchDatagrams: BATCH_DATAGRAMS,
        realtimePriority: options.realtimePriority,
      };
      const w = startReceiverThread(init, RECEIVER_LIMITS);
      worker = w;
      const listening = await new Promise<SourceListening>((resolve, reject) => {
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`the receiving thread exited (code ${code}) before listening`)));
        w.on('message', (msg: FromReceiver) => {
          if (msg.type === 'batch') onBatch(msg);
          else if (msg.type === 'listening') resolve({ sockets: msg.sockets, priority: msg.priority });
          else if (msg.type === 'failed') reject(new Error(msg.message));
          else if (msg.type === 'socket-error') on.socketError(msg.message);
          else {
            if (msg.overflow > 0) on.overflow(msg.overflow, msg.overflowBytes);
            stopped();
          }
        });
      }).catch(async (err: unknown) => {
        await w.terminate();
        throw err;
      });
      w.removeAllListeners('error');
      w.removeAllListeners('exit');
      w.on('error', (err) => settle?.reject(err));
      w.on('exit', (code) => {
        if (stopping) settle?.resolve();
        else settle?.reject(new Error(`the receiving thread exited (code ${code})`));
      });
      return listening;
    },
    async stop() {
      const w = worker;
      if (!w || stopping) return;
      stopping = true;
      w.postMessage({ type: 'stop' } satisfies ToReceiver);
      // Its last batch arrives before 'stopped' (one port, in order); bounded in case the thread is gone.
      await Promise.race([stoppedMessage, done.catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
      while (queued.length > 0) handle(queued.shift()!);
      await w.terminate();
    },
    done: () => done,
  };
}
