import type { Socket } from 'node:dgram';

/**
 * Where one UDP listener comes from: a port the collector binds itself, or a datagram socket its
 * supervisor opened and passed down (socket activation). Passed sockets are how several collector
 * processes share one port through SO_REUSEPORT on Node 20, whose dgram cannot set that option
 * (docs/notes/ingest-flow.md, "Several collector processes").
 */
export type ListenSpec = { kind: 'port'; address: string; port: number } | { kind: 'fd'; fd: number; name: string };

export interface Listening {
  socket: Socket;
  address: string;
  port: number;
  /** The receive buffer the kernel granted (getsockopt SO_RCVBUF: Linux reports twice what was asked). */
  rcvbuf: number;
  /** 'port' (bound here) or 'fd' (passed by the supervisor). */
  kind: ListenSpec['kind'];
}

/** First descriptor of the socket-activation protocol (SD_LISTEN_FDS_START). */
const LISTEN_FDS_START = 3;

/**
 * The sockets passed by systemd's socket-activation protocol (sd_listen_fds(3)): LISTEN_FDS
 * descriptors from fd 3, meant for this process only when LISTEN_PID is its pid (a child that
 * inherited the environment must not take them). Names come from LISTEN_FDNAMES when set.
 */
export function inheritedSockets(env: NodeJS.ProcessEnv, pid: number): ListenSpec[] {
  const count = Number(env.LISTEN_FDS);
  if (!env.LISTEN_FDS || !Number.isInteger(count) || count <= 0) return [];
  if (env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) !== pid) return [];
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  return Array.from({ length: count }, (_, i) => ({
    kind: 'fd' as const,
    fd: LISTEN_FDS_START + i,
    name: names[i] || `fd${LISTEN_FDS_START + i}`,
  }));
}

/**
 * The exporter's address as configured: IPv4 exporters reaching a dual-stack socket arrive v4-mapped.
 * Self-contained: the receiving thread runs its source text.
 */
export function exporterAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Opens one listener. `rcvbuf` > 0 asks for that SO_RCVBUF (the kernel caps it at net.core.rmem_max);
 * 0 leaves the socket's buffer as the kernel (or the supervisor) set it. Self-contained (the dgram
 * module is a parameter): the receiving thread runs its source text (receiver.ts).
 */
export async function openListener(
  dgram: Pick<typeof import('node:dgram'), 'createSocket'>,
  spec: ListenSpec,
  rcvbuf: number,
): Promise<Listening> {
  const v6 = spec.kind === 'port' && spec.address.includes(':');
  const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ...(rcvbuf > 0 ? { recvBufferSize: rcvbuf } : {}) });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(spec.kind === 'fd' ? new Error(`passed socket ${spec.name} (fd ${spec.fd}): ${err.message}`) : err);
    };
    socket.once('error', fail);
    const done = () => {
      socket.off('error', fail);
      resolve();
    };
    if (spec.kind === 'fd') socket.bind({ fd: spec.fd }, done);
    else socket.bind(spec.port, spec.address, done);
  });
  if (rcvbuf > 0) {
    try {
      socket.setRecvBufferSize(rcvbuf);
    } catch {
      // The kernel may refuse; what it granted is reported.
    }
  }
  const { address, port } = socket.address();
  return { socket, address, port, rcvbuf: socket.getRecvBufferSize(), kind: spec.kind };
}
