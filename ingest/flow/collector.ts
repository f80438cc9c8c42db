import type { Worker } from 'node:worker_threads';
import type { Bus, BusMessage } from '../../core/bus/types.ts';
import { RealClock, type Clock } from '../../core/clock.ts';
import { LoopTracker, memoizeStop, parseSection, type Component, type OnFatal } from '../../core/component.ts';
import type { RootConfig } from '../../core/config/index.ts';
import { errorMessage } from '../../core/errors.ts';
import { createLogger, rateLimitedLogger, type Logger } from '../../core/log.ts';
import type { Registry } from '../../core/metrics.ts';
import { flowRecord, ifaceRecord } from '../../core/records/index.ts';
import { flowCollectorConfigSchema, type FlowCollectorConfig } from './config.ts';
import { createFlowMetrics, type FlowMetrics } from './metrics.ts';
import { inheritedSockets, type ListenSpec } from './listen.ts';
import { FlowPipeline, type IngestOutcome, type SealedMessage } from './pipeline.ts';
import { createDatagramSource, type DatagramSource } from './receive.ts';
import type { SocketInfo } from './receiver.ts';
import { startTsWorker } from './thread.ts';
import type { LimitCounts, LimitReason } from './types.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker.ts';

const limitMessages: Record<LimitReason, string> = {
  template_fields: 'flow template refused: more fields than templates.max_fields',
  template_density: 'flow template refused: fewer record bytes per field than templates.min_bytes_per_field',
  templates_per_domain: 'flow templates evicted: an exporter domain exceeded templates.max_per_domain',
  template_fields_total: 'flow templates evicted: the cache exceeded templates.max_total_fields',
  template_ttl: 'flow templates forgotten: unused for longer than templates.ttl_ms',
  pending_sets: 'data sets waiting for a template dropped: templates.pending_limit reached',
  pending_bytes: 'data sets waiting for a template dropped: pending byte budget reached',
  flows_per_datagram: 'flow records dropped: one datagram held more than templates.max_flows_per_datagram flows',
};

export interface FlowCollectorDeps {
  bus: Bus;
  registry: Registry;
  /** The validated root config: its topology enriches records (site, link, dst_site, class). */
  root?: RootConfig;
  log?: Logger;
  clock?: Clock;
  /** Told when the linger loop or the receiving thread dies (the composition root stops the process). */
  onFatal?: OnFatal;
  /** Where socket activation is read from (LISTEN_FDS, LISTEN_PID); default process.env and process.pid. */
  env?: NodeJS.ProcessEnv;
  pid?: number;
}

export interface FlowCollectorStats {
  datagrams: number;
  flows: number;
  ifaces: number;
  /** Records accepted by the bus. */
  sent: number;
  /** Records dropped (buffer full, shutdown). */
  dropped: number;
  /** Datagrams the receiving thread dropped because `receiver.buffer_bytes` waited to be decoded. */
  receiveDropped: number;
  /** Decode problems by reason. */
  errors: Record<string, number>;
  /** Records waiting for the bus. */
  buffered: number;
  /** Of those, records sealed into messages and queued for (or on their way to) the bus. */
  publishing: number;
}

export interface FlowCollector extends Component {
  /** Bound UDP addresses (after start; port 0 resolves to the port the kernel chose). */
  addresses(): { address: string; port: number }[];
  /** Handles one datagram as if it arrived on a socket (replays, tests). */
  ingest(buf: Buffer, exporter: string, receivedAt?: number): void;
  /** Seals open batches and resolves when everything buffered reached the bus (or the timeout passed). */
  flush(timeoutMs?: number): Promise<boolean>;
  stats(): FlowCollectorStats;
}

const PUBLISH_BACKOFF_MS = [100, 250, 500, 1000, 2000];

/**
 * The flow collector: UDP listeners → decode (NetFlow v5/v9, IPFIX, sFlow) → enrich → batches of
 * records → Kafka messages through the Bus. The socket is never blocked: records wait in a bounded
 * buffer while the bus is slow or away, and beyond `buffer_records` they are dropped and counted.
 */
export function createFlowCollector(deps: FlowCollectorDeps, input: unknown = {}): FlowCollector {
  const config: FlowCollectorConfig = parseSection(flowCollectorConfigSchema, input, 'ingest.flow');
  const clock = deps.clock ?? new RealClock();
  const log = (deps.log ?? createLogger()).child({ component: 'ingest/flow' });
  const warn = rateLimitedLogger(log);
  const metrics: FlowMetrics = createFlowMetrics(deps.registry);
  const bus = deps.bus;

  let source: DatagramSource | undefined;
  let listening: SocketInfo[] = [];
  const workers: Worker[] = [];
  const queue: SealedMessage[] = [];
  let queuedRecords = 0;
  let inflight = 0;
  let inflightRecords = 0;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let running = false;
  let stopping = false;
  const abort = new AbortController();
  let lingerLoop: Promise<void> | undefined;
  const loops = new LoopTracker('ingest/flow', { log, onFatal: deps.onFatal });
  const totals: FlowCollectorStats = {
    datagrams: 0,
    flows: 0,
    ifaces: 0,
    sent: 0,
    dropped: 0,
    receiveDropped: 0,
    errors: {},
    buffered: 0,
    publishing: 0,
  };
  const idleWaiters: (() => void)[] = [];

  const onSealed = (m: SealedMessage) => {
    queue.push(m);
    queuedRecords += m.records;
    pump();
  };
  const pipeline = new FlowPipeline(config, deps.root, onSealed);
  const buffered = () => queuedRecords + inflightRecords + pipeline.openRecords();
  const admit = (n: number) => {
    if (buffered() + n > config.buffer_records) {
      metrics.dropped.inc({ reason: 'buffer_full' }, n);
      totals.dropped += n;
      return false;
    }
    return true;
  };

  /** Counts bounds that acted and says so in the log, at most a few lines per bound per 10 s. */
  function countLimits(limits: LimitCounts, exporter?: string): void {
    for (const [limit, n] of Object.entries(limits)) {
      if (!n) continue;
      metrics.limited.inc({ limit }, n);
      warn(`limit:${limit}`, { limit, count: n, exporter }, limitMessages[limit as LimitReason]);
    }
  }

  function countOutcome(o: IngestOutcome, exporter: string): void {
    totals.datagrams++;
    if (o.flows > 0) {
      metrics.records.inc({ kind: 'flow' }, o.flows);
      totals.flows += o.flows;
    }
    if (o.ifaces > 0) {
      metrics.records.inc({ kind: 'iface' }, o.ifaces);
      totals.ifaces += o.ifaces;
    }
    for (const e of o.errors) countError(e, 1);
    if (o.defaultRated > 0) metrics.defaultRated.inc(o.defaultRated);
    countLimits(o.limits, exporter);
  }

  function countError(reason: string, n: number): void {
    metrics.errors.inc({ error_type: reason }, n);
    totals.errors[reason] = (totals.errors[reason] ?? 0) + n;
    if (reason === 'template_missing') metrics.dropped.inc({ reason: 'template_missing' }, n);
  }

  function pump(): void {
    // One publish in flight: kafkajs serializes idempotent sends anyway, and order per key is kept.
    if (inflight > 0 || queue.length === 0 || retryTimer) return;
    const topic = queue[0]!.topic;
    const batch: SealedMessage[] = [];
    while (batch.length < config.messages_per_publish && queue.length > 0 && queue[0]!.topic === topic)
      batch.push(queue.shift()!);
    const records = batch.reduce((n, m) => n + m.records, 0);
    queuedRecords -= records;
    inflightRecords += records;
    inflight++;
    const messages: BusMessage[] = batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers }));
    bus.publish(topic, messages).then(
      () => {
        inflight--;
        inflightRecords -= records;
        failures = 0;
        metrics.sent.inc(records);
        totals.sent += records;
        for (const m of batch) metrics.messages.inc({ kind: m.kind });
        settle();
      },
      (err: unknown) => {
        inflight--;
        inflightRecords -= records;
        // Back to the head of the queue, in order; try again after a backoff.
        queue.unshift(...batch);
        queuedRecords += records;
        metrics.errors.inc({ error_type: 'publish' });
        totals.errors.publish = (totals.errors.publish ?? 0) + 1;
        warn('publish', { err: errorMessage(err), topic, records }, 'flow records not accepted by the bus, retrying');
        const delay = PUBLISH_BACKOFF_MS[Math.min(failures++, PUBLISH_BACKOFF_MS.length - 1)]!;
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          pump();
        }, delay);
        settle();
      },
    );
  }

  function settle(): void {
    metrics.buffered.set(buffered());
    pump();
    if (queue.length === 0 && inflight === 0) for (const w of idleWaiters.splice(0)) w();
  }

  function ingest(buf: Buffer, exporter: string, receivedAt = clock.now()): void {
    metrics.received.inc();
    metrics.receivedBytes.inc(buf.length);
    if (workers.length > 0) {
      const i = hash(exporter) % workers.length;
      // A copy of just the datagram: `buf` may be a view into a larger buffer, which would be cloned whole.
      workers[i]!.postMessage({ type: 'datagram', buf: new Uint8Array(buf), exporter, at: receivedAt } satisfies ToWorker);
      return;
    }
    countOutcome(pipeline.ingest(buf, exporter, receivedAt, admit), exporter);
  }

  function onWorkerMessage(worker: number, msg: FromWorker): void {
    if (msg.type === 'messages') {
      for (const m of msg.messages) {
        m.value = Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength);
        if (!admit(m.records)) continue;
        onSealed(m);
      }
    } else if (msg.type === 'outcome') {
      totals.datagrams += msg.datagrams;
      totals.flows += msg.flows;
      totals.ifaces += msg.ifaces;
      if (msg.flows > 0) metrics.records.inc({ kind: 'flow' }, msg.flows);
      if (msg.ifaces > 0) metrics.records.inc({ kind: 'iface' }, msg.ifaces);
      if (msg.defaultRated > 0) metrics.defaultRated.inc(msg.defaultRated);
      for (const [k, v] of Object.entries(msg.errors)) countError(k, v);
      if (msg.expired > 0) countError('template_missing', msg.expired);
      countLimits(msg.limits);
      workerGauges.set(worker, {
        templates: msg.templates,
        templateFields: msg.templateFields,
        pending: msg.pending,
        pendingBytes: msg.pendingBytes,
      });
    }
  }
  const workerGauges = new Map<number, { templates: number; templateFields: number; pending: number; pendingBytes: number }>();

  async function startWorkers(): Promise<void> {
    const init: WorkerInit = { config, root: deps.root };
    for (let i = 0; i < config.workers; i++) {
      const w = startTsWorker(new URL('./worker.ts', import.meta.url), init);
      w.on('message', (m: FromWorker) => onWorkerMessage(i, m));
      w.on('error', (err) => log.error({ err: errorMessage(err) }, 'flow decoding worker failed'));
      w.on('exit', (code) => {
        // A worker that dies while running loses what it held; count it so it cannot go unnoticed.
        if (running && !stopping) {
          countError('worker_exit', 1);
          log.error({ worker: i, code }, 'flow decoding worker exited');
        }
      });
      workers.push(w);
      // Ready once its module has loaded (a load failure fails start()).
      await new Promise<void>((resolve, reject) => {
        const onReady = (m: FromWorker) => {
          if (m.type !== 'ready') return;
          w.off('message', onReady);
          w.off('error', reject);
          resolve();
        };
        w.on('message', onReady);
        w.once('error', reject);
      });
    }
  }

  async function workersFlush(): Promise<void> {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            const on = (m: FromWorker) => {
              if (m.type === 'flushed') {
                w.off('message', on);
                clearTimeout(timer);
                resolve();
              }
            };
            w.on('message', on);
            w.postMessage({ type: 'flush' } satisfies ToWorker);
          }),
      ),
    );
  }

  /** Passed sockets when the supervisor gave some (and the config lets us take them), else the configured ports. */
  function listenSpecs(): ListenSpec[] {
    const env = deps.env ?? process.env;
    const passed = config.inherit_sockets ? inheritedSockets(env, deps.pid ?? process.pid) : [];
    if (passed.length > 0) {
      // Taken: a child process of ours must not see them as its own.
      delete env.LISTEN_FDS;
      delete env.LISTEN_PID;
      delete env.LISTEN_FDNAMES;
      return passed;
    }
    return [config.port, ...config.extra_ports].map((port) => ({ kind: 'port', address: config.bind, port }));
  }

  function onDatagram(buf: Buffer, exporter: string): void {
    try {
      ingest(buf, exporter);
    } catch (err) {
      // Never crash on input: anything unexpected is counted and logged at a bounded rate.
      countError('internal', 1);
      warn('internal', { err: errorMessage(err), exporter }, 'flow datagram handling failed');
    }
  }

  function onOverflow(datagrams: number, bytes: number): void {
    metrics.receiveDropped.inc(datagrams);
    totals.receiveDropped += datagrams;
    warn('receive_overflow', { datagrams, bytes }, 'flow datagrams dropped: receiver.buffer_bytes were waiting to be decoded');
  }

  async function linger(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        await clock.sleep(config.batch.linger_ms, abort.signal, { background: true });
      } catch {
        return;
      }
      if (workers.length > 0) {
        for (const w of workers) w.postMessage({ type: 'tick', now: clock.now() } satisfies ToWorker);
        const sum = { templates: 0, templateFields: 0, pending: 0, pendingBytes: 0 };
        for (const g of workerGauges.values()) {
          sum.templates += g.templates;
          sum.templateFields += g.templateFields;
          sum.pending += g.pending;
          sum.pendingBytes += g.pendingBytes;
        }
        metrics.templates.set(sum.templates);
        metrics.templateFields.set(sum.templateFields);
        metrics.pending.set(sum.pending);
        metrics.pendingBytes.set(sum.pendingBytes);
      } else {
        const now = clock.now();
        const expired = pipeline.expire(now);
        if (expired > 0) countError('template_missing', expired);
        const stale = pipeline.expireTemplates(now);
        if (stale > 0) countLimits({ template_ttl: stale });
        pipeline.flush();
        const cache = pipeline.decoder.templates;
        metrics.templates.set(cache.templateCount());
        metrics.templateFields.set(cache.fieldCount());
        metrics.pending.set(cache.pendingCount());
        metrics.pendingBytes.set(cache.pendingBytes());
      }
      metrics.buffered.set(buffered());
    }
  }

  async function flush(timeoutMs = 10_000): Promise<boolean> {
    if (workers.length > 0) await workersFlush();
    pipeline.flush();
    pump();
    if (queue.length === 0 && inflight === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = idleWaiters.indexOf(done);
        if (i >= 0) idleWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      idleWaiters.push(done);
    });
  }

  return {
    name: 'ingest/flow',
    async start() {
      if (running) return;
      running = true;
      await bus.ensureTopics([
        { topic: config.topics.flow ?? flowRecord.topic },
        { topic: config.topics.iface ?? ifaceRecord.topic },
      ]);
      if (config.workers > 1) await startWorkers();
      const src = createDatagramSource(
        {
          listen: listenSpecs(),
          rcvbufBytes: config.rcvbuf_bytes,
          thread: config.receiver.thread,
          bufferBytes: config.receiver.buffer_bytes,
          realtimePriority: config.receiver.realtime_priority,
        },
        {
          datagram: onDatagram,
          overflow: onOverflow,
          socketError: (message) => warn('socket', { err: message }, 'flow socket error'),
        },
      );
      const opened = await src.start();
      listening = opened.sockets;
      source = src;
      const priority = opened.priority;
      if (priority?.error)
        log.warn(
          { asked: config.receiver.realtime_priority, policy: priority.policy, err: priority.error },
          'the receiving thread stays in the normal scheduling class: grant RLIMIT_RTPRIO (systemd LimitRTPRIO=, docker --ulimit rtprio=) or CAP_SYS_NICE, or set ingest.flow.receiver.realtime_priority: 0',
        );
      for (const l of listening)
        log.info(
          {
            address: l.address,
            port: l.port,
            rcvbuf: l.rcvbuf,
            socket: l.kind === 'fd' ? 'passed' : 'bound',
            receiver: config.receiver.thread ? 'thread' : 'inline',
            ...(priority ? { receiverScheduling: priority.policy === 'fifo' ? `fifo ${priority.realtime}` : 'other' } : {}),
            workers: config.workers,
          },
          'flow collector listening',
        );
      lingerLoop = loops.track('linger', linger);
      void loops.track('receiver', () => src.done());
    },
    stop: memoizeStop(async () => {
      if (!running) return;
      stopping = true;
      loops.stopping();
      await source?.stop();
      abort.abort();
      await lingerLoop;
      const drained = await flush(5_000);
      if (retryTimer) clearTimeout(retryTimer);
      if (!drained) {
        const lost = buffered();
        metrics.dropped.inc({ reason: 'shutdown' }, lost);
        totals.dropped += lost;
        log.warn({ records: lost }, 'flow records not published before shutdown');
      }
      for (const w of workers) await w.terminate();
      log.info(
        {
          datagrams: totals.datagrams,
          flows: totals.flows,
          ifaces: totals.ifaces,
          sent: totals.sent,
          dropped: totals.dropped,
          receiveDropped: totals.receiveDropped,
          errors: totals.errors,
        },
        'flow collector stopped',
      );
    }),
    health: () => loops.health(),
    addresses: () => listening.map((l) => ({ address: l.address, port: l.port })),
    ingest,
    flush,
    stats: () => ({
      ...totals,
      errors: { ...totals.errors },
      buffered: buffered(),
      publishing: queuedRecords + inflightRecords,
    }),
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
