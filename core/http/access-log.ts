/**
 * The API's access log: one entry per call (who, from where, which route, the verdict), handed to a sink
 * (ClickHouse's `api_access` in the roles) in batches. Recording never blocks or fails a request: a sink
 * error is logged and the batch dropped (counted), the API keeps answering.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';

export interface AccessEntry {
  time: number;
  source: string;
  principal: string;
  role: string;
  service: string;
  method: string;
  action: string;
  status: number;
  verdict: 'allowed' | 'unauthorized' | 'forbidden' | 'refused' | 'error';
  client_cert: string;
}

export interface AccessLog {
  record(entry: AccessEntry): void;
  /** Writes what is buffered (at stop). */
  close(): Promise<void>;
}

/** The entry of one answered request. */
export function accessEntry(request: FastifyRequest, reply: FastifyReply, now: number): AccessEntry {
  const status = reply.statusCode;
  const action = request.routeOptions.url ?? 'unmatched';
  const socket = request.raw.socket as Partial<TLSSocket>;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  return {
    time: now,
    source: request.ip,
    principal: request.principal?.name ?? '',
    role: request.principal?.role ?? '',
    service: /^\/([a-z]+)/.exec(action)?.[1] ?? 'root',
    method: request.method,
    action,
    status,
    verdict:
      status === 401
        ? 'unauthorized'
        : status === 403
          ? 'forbidden'
          : status >= 500
            ? 'error'
            : status >= 400
              ? 'refused'
              : 'allowed',
    client_cert: cert && typeof cert.subject?.CN === 'string' ? cert.subject.CN : '',
  };
}

/**
 * Batches entries to `write` every `everyMs` or `maxBatch` entries, one write at a time. While the sink is
 * slow or down the buffer is bounded (`maxBuffered`): the oldest entries are dropped and counted.
 */
export function batchedAccessLog(
  write: (entries: AccessEntry[]) => Promise<void>,
  opts: { everyMs?: number; maxBatch?: number; maxBuffered?: number; onError?: (err: unknown, dropped: number) => void } = {},
): AccessLog {
  let buffer: AccessEntry[] = [];
  let inFlight: Promise<void> | undefined;
  const max = opts.maxBuffered ?? 50_000;
  const flush = (): Promise<void> => {
    if (inFlight) return inFlight;
    if (!buffer.length) return Promise.resolve();
    const batch = buffer;
    buffer = [];
    inFlight = write(batch)
      .catch((err: unknown) => opts.onError?.(err, batch.length))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const timer = setInterval(() => void flush(), opts.everyMs ?? 2000);
  timer.unref();
  return {
    record(entry) {
      buffer.push(entry);
      if (buffer.length > max) opts.onError?.(new Error('access log buffer full'), buffer.splice(0, buffer.length - max).length);
      if (buffer.length >= (opts.maxBatch ?? 500)) void flush();
    },
    async close() {
      clearInterval(timer);
      await inFlight;
      await flush();
    },
  };
}
