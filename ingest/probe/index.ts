import type { Bus } from '../../core/bus/types.ts';
import type { Clock } from '../../core/clock.ts';
import { memoizeStop, parseSection, type Component } from '../../core/component.ts';
import type { Topology } from '../../core/config/index.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Registry } from '../../core/metrics.ts';
import { probeRecord, type ProbeRecord } from '../../core/records/index.ts';
import { publishRecords } from '../../core/bus/publish.ts';
import { probeConfigSchema, streamSchema, type StreamConfig } from './config.ts';
import { createProbeMetrics, type ProbeMetrics } from './metrics.ts';
import { Reflector } from './reflector.ts';
import { ProbeSender } from './sender.ts';

export { probeConfigSchema, streamSchema, type ProbeConfig, type StreamConfig } from './config.ts';
export { Reflector } from './reflector.ts';
export { ProbeSender, type SenderOptions } from './sender.ts';
export { ProbeWindow } from './window.ts';
export * from './packet.ts';

export interface ProbeDeps {
  clock: Clock;
  registry: Registry;
  /** Where probe records go (`pathpilot.probe.v1`). */
  bus?: Bus;
  /** Topic override (tests); default `probeRecord.topic`. */
  topic?: string;
  /** Needed when `site` asks for streams derived from the topology's paths. */
  topology?: Topology;
  log?: Logger;
  /** Also receives every record (CLI output, tests). */
  onRecord?: (record: ProbeRecord) => void;
}

export interface ProbeAgent extends Component {
  readonly metrics: ProbeMetrics;
  readonly streams: readonly StreamConfig[];
  /** The reflector's bound port once started (when enabled). */
  reflectorPort(): number | undefined;
}

/**
 * Streams for every path leaving `site`: source = the first link's address at `site`, target = the
 * last link's address at the destination site, on the reflectors' port.
 */
export function streamsFromTopology(topology: Topology, site: string, port: number): StreamConfig[] {
  const out: StreamConfig[] = [];
  const problems: string[] = [];
  for (const path of topology.paths.values()) {
    if (path.from !== site) continue;
    const first = topology.linkEnd(path.links[0]!, path.from);
    const last = topology.linkEnd(path.links[path.links.length - 1]!, path.to);
    if (!first?.address || !last?.address) {
      problems.push(`paths "${path.id}": its first and last links need an address at ${path.from} and ${path.to}`);
      continue;
    }
    out.push(
      streamSchema.parse({
        path_id: path.id,
        src_site: path.from,
        dst_site: path.to,
        source_address: first.address,
        target_address: last.address,
        target_port: port,
      }),
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** Inert: validates and builds; `start()` binds the reflector and starts the streams. */
export function createProbeAgent(deps: ProbeDeps, input: unknown = {}): ProbeAgent {
  const cfg = parseSection(probeConfigSchema, input, 'ingest.probe');
  const metrics = createProbeMetrics(deps.registry);
  const topic = deps.topic ?? probeRecord.topic;
  const streams = [...cfg.streams];
  if (cfg.site) {
    if (!deps.topology) throw new ConfigError(['ingest.probe.site: a topology is needed to derive streams']);
    streams.push(...streamsFromTopology(deps.topology, cfg.site, cfg.reflector.port));
  }
  const reflector = cfg.reflector.enabled
    ? new Reflector({ listen: cfg.reflector.listen, port: cfg.reflector.port, metrics, log: deps.log })
    : undefined;
  let reflectorPort: number | undefined;
  // Records are published in order, one window at a time; a failed publish is counted and logged.
  let publishing: Promise<void> = Promise.resolve();
  const onRecord = (record: ProbeRecord) => {
    deps.onRecord?.(record);
    const bus = deps.bus;
    if (!bus) return;
    publishing = publishing.then(async () => {
      try {
        await publishRecords(bus, probeRecord, [record], { topic });
        metrics.sent.inc();
      } catch (err) {
        metrics.errors.inc({ error_type: 'publish' });
        deps.log?.warn({ err: errorMessage(err), path: record.path_id }, 'probe record not published');
      }
    });
  };
  const senders = streams.map(
    (s) =>
      new ProbeSender(s, {
        clock: deps.clock,
        interval_ms: cfg.interval_ms,
        window_ms: cfg.window_ms,
        grace_ms: cfg.grace_ms,
        packet_size: cfg.packet_size,
        align_to_window: cfg.align_to_window,
        metrics,
        log: deps.log,
        onRecord,
      }),
  );
  const started: { stop(): Promise<void> }[] = [];

  return {
    name: 'ingest/probe',
    metrics,
    streams,
    reflectorPort: () => reflectorPort,
    async start() {
      if (deps.bus && senders.length > 0) await deps.bus.ensureTopics([{ topic }]);
      try {
        if (reflector) {
          reflectorPort = await reflector.start();
          started.push(reflector);
        }
        for (const s of senders) {
          await s.start();
          started.push(s);
        }
      } catch (err) {
        for (const s of started.reverse()) await s.stop();
        started.length = 0;
        throw err;
      }
    },
    stop: memoizeStop(async () => {
      for (const s of [...started].reverse()) await s.stop();
      await publishing;
    }),
  };
}
