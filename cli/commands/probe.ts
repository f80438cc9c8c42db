import { isExit, parseCommand, runSubcommand } from '../args.ts';
import { createBus } from '../../core/bus/index.ts';
import type { Bus } from '../../core/bus/types.ts';
import { RealClock } from '../../core/clock.ts';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { createRegistry } from '../../core/metrics.ts';
import type { ProbeRecord } from '../../core/records/index.ts';
import { probeConfigSchema, type ProbeConfig } from '../../ingest/probe/config.ts';
import { createProbeAgent } from '../../ingest/probe/index.ts';

export const summary = 'TWAMP-light probes: `probe reflect` answers probes, `probe send` measures paths (records as JSON lines)';

const usage = `usage: pathpilot probe reflect [--listen ADDR] [--port N] [--duration S]
       pathpilot probe send --target HOST[:PORT] [--source ADDR] [--path ID] [--src-site ID] [--dst-site ID]
                            [--interval MS] [--window MS] [--grace MS] [--size N] [--windows N] [--publish] [-c FILE]
       pathpilot probe send --site ID [--windows N] [--publish] [-c FILE]

reflect  answers TWAMP-Test (RFC 5357, unauthenticated) probes until interrupted (or --duration).
send     sends a probe every --interval ms from --source (bind the path's tunnel address so the probes
         follow that tunnel) to a reflector, and prints one probe record per --window as a JSON line:
         sent, received, loss, duplicates, reordering, RTT min/avg/p50/p95/max and jitter. Replies later
         than the window's end + --grace are late and not counted. --site probes every path leaving
         that site, from the topology in the configuration. --windows N stops after N records per
         stream; --publish also sends the records to the configured bus (services.bus / KAFKA_BROKERS).
Defaults come from the ingest.probe section (1 s probes, 10 s windows, 1 s grace, port 862).
`;

function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`--${name} must be a whole number in ${min}..${max}, got "${value}"`);
  return v;
}

class UsageError extends Error {}

function untilSignal(durationS: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    const timer = durationS !== undefined ? setTimeout(done, durationS * 1000) : undefined;
  });
}

export const subcommands = ['reflect', 'send'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, {
    name: 'pathpilot probe',
    usage,
    subcommands: { reflect: (rest) => probe('reflect', rest), send: (rest) => probe('send', rest) },
  });
}

async function probe(sub: (typeof subcommands)[number], args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: `pathpilot probe ${sub}`,
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string' },
      port: { type: 'string' },
      duration: { type: 'string' },
      target: { type: 'string' },
      source: { type: 'string' },
      path: { type: 'string', default: 'cli' },
      'src-site': { type: 'string', default: 'local' },
      'dst-site': { type: 'string', default: 'remote' },
      site: { type: 'string' },
      interval: { type: 'string' },
      window: { type: 'string' },
      grace: { type: 'string' },
      size: { type: 'string' },
      windows: { type: 'string' },
      publish: { type: 'boolean', default: false },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const { root, source } = loadConfig(values.config);
  const base = source.section('ingest.probe', probeConfigSchema);
  const registry = createRegistry();
  const clock = new RealClock();
  try {
    if (sub === 'reflect') {
      const port = int('port', values.port, 0, 65_535) ?? base.reflector.port;
      const listen = values.listen ?? base.reflector.listen;
      const duration = int('duration', values.duration, 1, 31_536_000);
      const agent = createProbeAgent(
        { clock, registry },
        { ...base, streams: [], site: undefined, reflector: { enabled: true, listen, port } },
      );
      await agent.start();
      process.stderr.write(`reflecting TWAMP-light probes on ${listen}:${agent.reflectorPort()}\n`);
      await untilSignal(duration);
      await agent.stop();
      return 0;
    }

    const cfg: ProbeConfig = {
      ...base,
      reflector: { ...base.reflector, enabled: false },
      interval_ms: int('interval', values.interval, 1, 3_600_000) ?? base.interval_ms,
      window_ms: int('window', values.window, 10, 86_400_000) ?? base.window_ms,
      grace_ms: int('grace', values.grace, 0, 600_000) ?? base.grace_ms,
      packet_size: int('size', values.size, 41, 1472) ?? base.packet_size,
    };
    if (values.site) {
      cfg.site = values.site;
      cfg.streams = [];
    } else if (values.target) {
      const m = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d+))?$/.exec(values.target);
      if (!m) throw new UsageError(`--target must be HOST or HOST:PORT, got "${values.target}"`);
      cfg.site = undefined;
      cfg.streams = [
        {
          path_id: values.path,
          src_site: values['src-site'],
          dst_site: values['dst-site'],
          source_address: values.source,
          target_address: m[1]!.replace(/^\[|\]$/g, ''),
          target_port: m[2] ? Number(m[2]) : base.reflector.port,
        },
      ];
    } else if (cfg.streams.length === 0 && !cfg.site) {
      throw new UsageError('probe send needs --target, --site, or streams in ingest.probe');
    }
    const limit = int('windows', values.windows, 1, 1_000_000);
    let bus: Bus | undefined;
    if (values.publish) {
      bus = createBus(root.services.bus, { registry });
      await bus.start();
    }
    const perStream = new Map<string, number>();
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const agent = createProbeAgent(
      {
        clock,
        registry,
        bus,
        topology: cfg.site ? new Topology(root) : undefined,
        onRecord: (r: ProbeRecord) => {
          process.stdout.write(`${JSON.stringify(r)}\n`);
          perStream.set(r.path_id, (perStream.get(r.path_id) ?? 0) + 1);
          if (limit !== undefined && agent.streams.every((s) => (perStream.get(s.path_id) ?? 0) >= limit)) finish();
        },
      },
      cfg,
    );
    await agent.start();
    process.stderr.write(`probing ${agent.streams.length} stream(s) every ${cfg.interval_ms} ms, ${cfg.window_ms} ms windows\n`);
    await Promise.race([finished, untilSignal(undefined)]);
    await agent.stop();
    await bus?.stop();
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`pathpilot probe: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
