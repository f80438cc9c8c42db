import { createSocket, type Socket } from 'node:dgram';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { rateLimitedLogger } from '../../core/log.ts';
import type { ProbeRecord } from '../../core/records/index.ts';
import type { StreamConfig } from './config.ts';
import type { ProbeMetrics } from './metrics.ts';
import { decodeReply, encodeRequest } from './packet.ts';
import { preciseNow } from './reflector.ts';
import { ProbeWindow } from './window.ts';

export interface SenderOptions {
  clock: Clock;
  interval_ms: number;
  window_ms: number;
  grace_ms: number;
  packet_size: number;
  align_to_window: boolean;
  /** Called with each closed window's record. */
  onRecord: (record: ProbeRecord) => void;
  metrics?: ProbeMetrics;
  log?: Logger;
}

interface Probe {
  window: ProbeWindow;
  /** Monotonic send time (ms), for the RTT. */
  sentAt: number;
  answered: boolean;
}

/**
 * One probe stream: a UDP socket bound to the path's source address, a probe every `interval_ms`
 * (clock time), replies matched by sequence number. RTT is measured on the monotonic clock and the
 * reflector's dwell time (its transmit − receive timestamps) is subtracted. Windows follow the
 * Clock: a probe belongs to the window its send time falls in; a reply counts only until that
 * window closes at `end + grace_ms`; later replies are "late". Duplicates and out-of-order replies
 * (a sequence number below the highest already answered) are counted.
 */
export class ProbeSender {
  private socket?: Socket;
  private abort?: AbortController;
  private loop?: Promise<void>;
  private seq = 0;
  private highestAnswered = -1;
  private readonly probes = new Map<number, Probe>();
  private readonly windows = new Map<number, ProbeWindow>();
  private readonly warn?: ReturnType<typeof rateLimitedLogger>;

  constructor(
    readonly stream: StreamConfig,
    private readonly options: SenderOptions,
  ) {
    if (options.log) this.warn = rateLimitedLogger(options.log);
  }

  async start(): Promise<void> {
    const family = (this.stream.source_address ?? this.stream.target_address).includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket({ type: family });
    this.socket = socket;
    socket.on('message', (msg) => this.onReply(msg));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, this.stream.source_address, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.warn?.('socket', { err: err.message }, 'probe socket error'));
        resolve();
      });
    });
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal).catch((err: unknown) => {
      if (!this.abort?.signal.aborted) {
        this.options.metrics?.errors.inc({ error_type: 'loop' });
        this.options.log?.error({ err: String(err), path: this.stream.path_id }, 'probe stream stopped');
      }
    });
  }

  /** Stops probing; windows that have not closed yet are dropped (their replies may still be in flight). */
  async stop(): Promise<void> {
    this.abort?.abort(new Error('probe sender stopped'));
    await this.loop;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** The bound local port (tests, diagnostics). */
  localPort(): number | undefined {
    return this.socket?.address().port;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock, interval_ms: interval, window_ms: windowMs } = this.options;
    let next = clock.now();
    if (this.options.align_to_window) next = Math.ceil(next / windowMs) * windowMs;
    while (!signal.aborted) {
      const now = clock.now();
      if (now >= next) {
        this.send(now);
        next += interval;
        // Fell behind by more than a probe (a stalled process): skip rather than burst.
        if (next < now) next = Math.ceil(now / interval) * interval;
      }
      this.closeDue(now);
      let wake = next;
      for (const w of this.windows.values()) wake = Math.min(wake, w.end + this.options.grace_ms);
      await clock.sleep(Math.max(0, wake - clock.now()), signal);
    }
  }

  private send(now: number): void {
    const windowMs = this.options.window_ms;
    const start = Math.floor(now / windowMs) * windowMs;
    let window = this.windows.get(start);
    if (!window) this.windows.set(start, (window = new ProbeWindow(start, start + windowMs)));
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    const sentAt = performance.now();
    this.probes.set(seq, { window, sentAt, answered: false });
    window.sent++;
    this.options.metrics?.probes.inc();
    const packet = encodeRequest(seq, preciseNow(), this.options.packet_size);
    this.socket?.send(packet, this.stream.target_port, this.stream.target_address, (err) => {
      if (err) {
        this.options.metrics?.errors.inc({ error_type: 'send' });
        this.warn?.('send', { err: err.message, path: this.stream.path_id }, 'probe send failed');
      }
    });
  }

  private onReply(msg: Buffer): void {
    const arrived = performance.now();
    const reply = decodeReply(msg);
    if (!reply) {
      this.options.metrics?.dropped.inc({ reason: 'short_packet' });
      return;
    }
    const probe = this.probes.get(reply.senderSeq);
    if (!probe || this.options.clock.now() >= probe.window.end + this.options.grace_ms) {
      // Its window has closed (or is due to): a late reply is never counted as received.
      if (probe) probe.window.late++;
      this.options.metrics?.late.inc();
      return;
    }
    const window = probe.window;
    if (probe.answered) {
      window.duplicates++;
      this.options.metrics?.dropped.inc({ reason: 'duplicate' });
      return;
    }
    probe.answered = true;
    this.options.metrics?.received.inc();
    const dwell = reply.reflectorSentMs - reply.reflectorReceivedMs;
    const rtt = arrived - probe.sentAt - (dwell > 0 && dwell < 1000 ? dwell : 0);
    window.rtts.set(reply.senderSeq, Math.max(0, rtt));
    if (reply.senderSeq < this.highestAnswered) window.reordered++;
    else this.highestAnswered = reply.senderSeq;
  }

  private closeDue(now: number): void {
    for (const [start, window] of this.windows) {
      if (now < window.end + this.options.grace_ms) continue;
      this.windows.delete(start);
      for (const [seq, probe] of this.probes) if (probe.window === window) this.probes.delete(seq);
      this.options.metrics?.windows.inc();
      const s = this.stream;
      this.options.onRecord(window.toRecord({ path_id: s.path_id, src_site: s.src_site, dst_site: s.dst_site, class: s.class }));
    }
  }
}
