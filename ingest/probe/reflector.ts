import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../core/log.ts';
import { rateLimitedLogger } from '../../core/log.ts';
import { encodeReply } from './packet.ts';
import type { ProbeMetrics } from './metrics.ts';

/** Wall-clock milliseconds with sub-millisecond resolution (packet timestamps). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A stateless TWAMP-light reflector: every request of 14 bytes or more is answered to its sender
 * with receive and transmit timestamps. Shorter datagrams are counted and dropped.
 */
export class Reflector {
  private socket?: Socket;
  private readonly warn?: ReturnType<typeof rateLimitedLogger>;

  constructor(private readonly options: { listen: string; port: number; metrics?: ProbeMetrics; log?: Logger }) {
    if (options.log) this.warn = rateLimitedLogger(options.log);
  }

  /** Binds; resolves with the bound port (useful with port 0). */
  async start(): Promise<number> {
    const socket = createSocket({ type: options6(this.options.listen) ? 'udp6' : 'udp4' });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      const received = preciseNow();
      if (msg.length < 14) {
        this.options.metrics?.dropped.inc({ reason: 'short_packet' });
        return;
      }
      const reply = encodeReply(msg, received, preciseNow());
      socket.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) {
          this.options.metrics?.errors.inc({ error_type: 'send' });
          this.warn?.('reflect', { err: err.message }, 'probe reflector cannot send');
        }
      });
      this.options.metrics?.reflected.inc();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.listen, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.warn?.('socket', { err: err.message }, 'probe reflector socket error'));
        resolve();
      });
    });
    return socket.address().port;
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

function options6(address: string): boolean {
  return address.includes(':');
}
