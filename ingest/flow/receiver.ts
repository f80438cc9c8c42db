/**
 * The receiving thread (`ingest.flow.receiver.thread`): it reads the UDP sockets and does nothing
 * else, so the kernel's socket buffer is drained within a millisecond or two even while the decoding
 * thread is in a GC pause, encoding a batch or publishing to Kafka. At the kernel's default 212,992
 * bytes the buffer holds ~50 datagrams of 25 IPFIX records: 12 ms at 100k flows/s.
 *
 * Datagrams go to the decoding thread in batches: copied into a slab (256 KB) that is transferred
 * there and back, so neither thread allocates per datagram beyond what dgram does, and the decoding
 * thread's heap never holds thousands of datagram-sized buffers waiting for a GC to free them. A
 * slab goes every 5 ms or 64 datagrams while the decoding thread keeps up; while it still works on
 * one, the next fills up, so what waits to be decoded packs the slabs `buffer_bytes` allows. With
 * no slab free, a datagram is dropped and counted here.
 *
 * Being idle almost all the time is not enough: in the normal scheduling class a woken thread may
 * wait behind the busy ones for 10–20 ms on a loaded host (measured on 2 cores under the bench: a
 * 1 ms sleep overslept by up to 20 ms at nice 0 and 16 ms at nice -15, never more than 1 ms in
 * SCHED_FIFO). So the thread asks for a low real-time priority (`receiver.realtime_priority`) and,
 * where the privilege is missing, runs on in the normal class and the collector says so.
 *
 * The thread runs plain JavaScript: the source text of `receiverMain`, `enterRealtime` and the two listen.ts helpers
 * it uses (what tsx compiled them to), not a module loaded through tsx. A worker that registers tsx
 * gets a module-hooks thread of its own on Node 20, another V8 isolate: ~12 MB of the 128 MB the
 * ingest process may hold. So these functions refer to nothing outside themselves but their parameters.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { exporterAddress, openListener, type Listening, type ListenSpec } from './listen.ts';

export interface ReceiverInit {
  listen: ListenSpec[];
  rcvbufBytes: number;
  bufferBytes: number;
  /** Bytes per slab (≥ the largest datagram, 65,535). */
  slabBytes: number;
  /** Longest a datagram waits in the receiving thread before its batch is sent on, ms. */
  flushMs: number;
  /** Datagrams per batch at most. */
  batchDatagrams: number;
  /** SCHED_FIFO priority to ask for on this thread (1–99); 0 leaves it in the normal class. */
  realtimePriority: number;
}

/**
 * The receiving thread's scheduling as the kernel reports it (/proc/thread-self/stat): its policy
 * (`fifo` when the real-time priority took), that priority, and why it did not take.
 */
export interface ReceiverPriority {
  policy: 'fifo' | 'other';
  realtime: number;
  error?: string;
}

/**
 * Puts the calling thread in the SCHED_FIFO class at `wanted` (Runs as source text in the receiving
 * thread: it may use only its parameters). Node has no sched_setscheduler, so util-linux's `chrt`
 * does it for this thread's id. Allowed with CAP_SYS_NICE or an RLIMIT_RTPRIO ≥ `wanted` (systemd
 * `LimitRTPRIO=`, docker `--ulimit rtprio=`).
 */
function enterRealtime(
  fs: typeof import('node:fs'),
  childProcess: typeof import('node:child_process'),
  wanted: number,
): ReceiverPriority {
  const read = (): ReceiverPriority => {
    // Fields after the command's closing parenthesis, from field 3 (state): 40 is rt_priority, 41 policy.
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { policy: fields[38] === '1' ? 'fifo' : 'other', realtime: Number(fields[37]) };
  };
  if (wanted === 0) return read();
  let error: string | undefined;
  try {
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop() ?? '';
    childProcess.execFileSync('chrt', ['--fifo', '--pid', String(wanted), tid], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 5_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    error = stderr || (err instanceof Error ? err.message : String(err));
  }
  const now = read();
  return error === undefined ? now : { ...now, error };
}

export interface SocketInfo {
  address: string;
  port: number;
  rcvbuf: number;
  kind: Listening['kind'];
}

/** A slab the decoding thread is done with, or the end. */
export type ToReceiver = { type: 'slab'; slab: ArrayBuffer } | { type: 'stop' };

export type FromReceiver =
  | { type: 'listening'; sockets: SocketInfo[]; priority: ReceiverPriority }
  | { type: 'failed'; message: string }
  /** A listening socket reported an error (ICMP feedback, an interface gone): not fatal. */
  | { type: 'socket-error'; message: string }
  /**
   * Datagrams packed in a slab (datagram i is `lengths[i]` bytes after datagram i - 1) and their
   * exporters; the datagrams dropped since the last batch because no slab was free. `slab` is absent
   * when the batch only reports drops.
   */
  | {
      type: 'batch';
      slab?: ArrayBuffer;
      lengths: number[];
      exporters: string[];
      overflow: number;
      overflowBytes: number;
    }
  | { type: 'stopped'; overflow: number; overflowBytes: number };

/** The thread's body. Runs as source text in the worker: it may use only its parameters. */
async function receiverMain(
  dgram: typeof import('node:dgram'),
  threads: typeof import('node:worker_threads'),
  realtime: () => ReceiverPriority,
  open: typeof openListener,
  exporterOf: typeof exporterAddress,
): Promise<void> {
  const port = threads.parentPort;
  if (!port) return;
  const init = threads.workerData as ReceiverInit;
  const priority = realtime();
  const maxSlabs = Math.max(1, Math.floor(init.bufferBytes / init.slabBytes));
  /** Slabs back from the decoding thread; a few are kept, the rest left to the GC. */
  const free: ArrayBuffer[] = [];
  const KEEP_FREE = 4;
  let slabs = 0;
  let slab: Uint8Array | undefined;
  let used = 0;
  let lengths: number[] = [];
  let exporters: string[] = [];
  let overflow = 0;
  let overflowBytes = 0;
  let timer: NodeJS.Timeout | undefined;

  /** Slabs the decoding thread holds. */
  const away = () => slabs - free.length - (slab ? 1 : 0);

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!slab && overflow === 0) return;
    const ab = slab?.buffer as ArrayBuffer | undefined;
    const msg: FromReceiver = { type: 'batch', slab: ab, lengths, exporters, overflow, overflowBytes };
    port.postMessage(msg, ab ? [ab] : []);
    slab = undefined;
    used = 0;
    lengths = [];
    exporters = [];
    overflow = 0;
    overflowBytes = 0;
  };

  /** A slab to copy into: a returned one, or a new one while fewer than maxSlabs exist. */
  const nextSlab = (): Uint8Array | undefined => {
    const ab = free.pop() ?? (slabs < maxSlabs ? (slabs++, new ArrayBuffer(init.slabBytes)) : undefined);
    return ab ? new Uint8Array(ab) : undefined;
  };

  /** A partly filled slab goes now only if the decoding thread is idle; else it fills up first. */
  const flushIfIdle = () => {
    if (away() === 0 || !slab) flush();
    else {
      if (timer) clearTimeout(timer);
      timer = undefined;
    }
  };

  const onMessage = (msg: Buffer, rinfo: { address: string }) => {
    if (slab && used + msg.byteLength > slab.byteLength) flush();
    slab ??= nextSlab();
    if (!slab) {
      overflow++;
      overflowBytes += msg.byteLength;
      // Counted on the decoding thread with the next batch, or on its own if no datagram follows.
      timer ??= setTimeout(flushIfIdle, init.flushMs);
      return;
    }
    slab.set(msg, used);
    used += msg.byteLength;
    lengths.push(msg.byteLength);
    exporters.push(exporterOf(rinfo.address));
    if (lengths.length >= init.batchDatagrams && away() === 0) flush();
    else timer ??= setTimeout(flushIfIdle, init.flushMs);
  };

  const listening: Listening[] = [];
  try {
    for (const spec of init.listen) listening.push(await open(dgram, spec, init.rcvbufBytes));
  } catch (err) {
    for (const l of listening) l.socket.close();
    port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromReceiver);
    return;
  }
  for (const l of listening) {
    l.socket.on('message', onMessage);
    l.socket.on('error', (err) => port.postMessage({ type: 'socket-error', message: err.message } satisfies FromReceiver));
  }
  port.on('message', (msg: ToReceiver) => {
    if (msg.type === 'slab') {
      if (free.length < KEEP_FREE) free.push(msg.slab);
      else slabs--;
      // The decoding thread is free again: what filled meanwhile goes now.
      if (away() === 0 && (slab || overflow > 0)) flush();
      return;
    }
    void Promise.all(listening.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve())))).then(() => {
      flush();
      port.postMessage({ type: 'stopped', overflow, overflowBytes } satisfies FromReceiver);
    });
  });
  port.postMessage({
    type: 'listening',
    sockets: listening.map((l) => ({ address: l.address, port: l.port, rcvbuf: l.rcvbuf, kind: l.kind })),
    priority,
  } satisfies FromReceiver);
}

/** The worker's script: the functions' compiled source (tsx keeps names through an `__name` helper). */
const source = `'use strict';
var __name = (fn) => fn;
${exporterAddress.toString()}
${openListener.toString()}
${enterRealtime.toString()}
const realtime = () => enterRealtime(require('node:fs'), require('node:child_process'), require('node:worker_threads').workerData.realtimePriority);
(${receiverMain.toString()})(require('node:dgram'), require('node:worker_threads'), realtime, openListener, exporterAddress);
`;

export function startReceiverThread(init: ReceiverInit, resourceLimits: ResourceLimits): Worker {
  return new Worker(source, { eval: true, workerData: init, resourceLimits });
}
