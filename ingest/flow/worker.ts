/**
 * A decoding worker thread (used when `ingest.flow.workers` > 1): runs a FlowPipeline on the
 * datagrams the collector hands it and posts sealed Kafka messages and counters back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RootConfig } from '../../core/config/index.ts';
import type { FlowCollectorConfig } from './config.ts';
import { FlowPipeline, type SealedMessage } from './pipeline.ts';
import { countLimit, type LimitCounts, type LimitReason } from './types.ts';

export interface WorkerInit {
  config: FlowCollectorConfig;
  root: RootConfig | undefined;
}

export type ToWorker =
  { type: 'datagram'; buf: Uint8Array; exporter: string; at: number } | { type: 'flush' } | { type: 'tick'; now: number };

export type FromWorker =
  | { type: 'messages'; messages: SealedMessage[] }
  | {
      type: 'outcome';
      datagrams: number;
      flows: number;
      ifaces: number;
      defaultRated: number;
      errors: Record<string, number>;
      expired: number;
      limits: LimitCounts;
      templates: number;
      templateFields: number;
      pending: number;
      pendingBytes: number;
    }
  | { type: 'flushed' }
  | { type: 'ready' };

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  let out: SealedMessage[] = [];
  const pipeline = new FlowPipeline(init.config, init.root, (m) => out.push(m));
  let datagrams = 0;
  let flows = 0;
  let ifaces = 0;
  let defaultRated = 0;
  let expired = 0;
  let errors: Record<string, number> = {};
  let limits: LimitCounts = {};
  const post = () => {
    if (out.length > 0) {
      const messages = out;
      out = [];
      port.postMessage({ type: 'messages', messages } satisfies FromWorker);
    }
  };
  const report = () => {
    port.postMessage({
      type: 'outcome',
      datagrams,
      flows,
      ifaces,
      defaultRated,
      errors,
      expired,
      limits,
      templates: pipeline.decoder.templates.templateCount(),
      templateFields: pipeline.decoder.templates.fieldCount(),
      pending: pipeline.decoder.templates.pendingCount(),
      pendingBytes: pipeline.decoder.templates.pendingBytes(),
    } satisfies FromWorker);
    datagrams = flows = ifaces = defaultRated = expired = 0;
    errors = {};
    limits = {};
  };
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'datagram') {
      const buf = Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength);
      const r = pipeline.ingest(buf, msg.exporter, msg.at, () => true);
      datagrams++;
      flows += r.flows;
      ifaces += r.ifaces;
      defaultRated += r.defaultRated;
      for (const e of r.errors) errors[e] = (errors[e] ?? 0) + 1;
      for (const [k, n] of Object.entries(r.limits)) countLimit(limits, k as LimitReason, n);
      post();
    } else if (msg.type === 'tick') {
      expired += pipeline.expire(msg.now);
      const stale = pipeline.expireTemplates(msg.now);
      if (stale > 0) countLimit(limits, 'template_ttl', stale);
      pipeline.flush();
      post();
      report();
    } else {
      pipeline.flush();
      post();
      report();
      port.postMessage({ type: 'flushed' } satisfies FromWorker);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
