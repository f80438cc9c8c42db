/**
 * `npm run services -- up|down|status|env|logs [service...]` (also `pathpilot services ...`).
 *   up      install what is missing, start what is not running, wait until all answer
 *   down    stop what `up` started (pid files); leaves other people's processes alone
 *   status  one line per service: healthy / unhealthy / stopped (exit 1 unless all healthy)
 *   env     `export KAFKA_BROKERS=…` lines for `eval "$(npm run -s services -- env)"`
 *   logs    the last lines of each service's log (-n LINES)
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../../core/errors.ts';
import type { ServicesConfig, ServicesTopology } from './index.ts';
import { defaultServicesConfig, down, serviceEnv, SERVICE_NAMES, ServicesError, status, up } from './index.ts';
import { clusterServicesConfig, recordedTopology, recordTopology } from './config.ts';
import { logTail } from './process.ts';

export const usage = `usage: services <up|down|status|env|logs> [kafka|clickhouse|zookeeper|redis|prometheus|INSTANCE ...]
                [--kafka-brokers N] [--clickhouse-cluster SxR] [--cluster] [-n LINES] [--json]
  up      install what is missing, start what is not running, wait until every service answers;
          --kafka-brokers 3 runs a KRaft cluster, --clickhouse-cluster 2x2 shards × replicas with
          ZooKeeper; the topology is remembered for the later commands (--kafka-brokers 1
          --clickhouse-cluster 0 return to single nodes)
  down    stop the services that \`up\` started (pid files); never touches other processes
  status  each service's state (exit 1 unless all are healthy)
  env     shell export lines: eval "$(npm run -s services -- env)"
  logs    the last lines of each service's log
  --cluster  any action on the cluster set the cluster tests use (.data/cluster, ports + 20000:
          three Kafka brokers, 2x2 ClickHouse + ZooKeeper) instead of the default set
`;

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The recorded topology with the command line's changes: `--kafka-brokers N`, `--clickhouse-cluster SxR|0`. */
export function topologyFromFlags(recorded: ServicesTopology, brokers?: string, cluster?: string): ServicesTopology {
  const topology: ServicesTopology = { ...recorded };
  if (brokers !== undefined) {
    const n = Number(brokers);
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`--kafka-brokers must be an integer 1..9, got ${brokers}`);
    topology.kafkaBrokers = n;
  }
  if (cluster !== undefined) {
    if (cluster === '0' || cluster === 'none') delete topology.clickhouseCluster;
    else {
      const m = /^([1-9])x([1-9])$/.exec(cluster);
      if (!m) throw new Error(`--clickhouse-cluster must be SHARDSxREPLICAS (e.g. 2x2) or 0, got ${cluster}`);
      topology.clickhouseCluster = { shards: Number(m[1]), replicas: Number(m[2]) };
    }
  }
  return topology;
}

export async function servicesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      lines: { type: 'string', short: 'n', default: '40' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      'kafka-brokers': { type: 'string' },
      'clickhouse-cluster': { type: 'string' },
      cluster: { type: 'boolean', default: false },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    process.stdout.write(usage);
    return action || values.help ? 0 : 2;
  }
  // A kind (`kafka`) or one of its instances (`kafka-2`, `clickhouse-s1r2`).
  const unknown = rest.filter((n) => !SERVICE_NAMES.some((kind) => n === kind || n.startsWith(`${kind}-`)));
  if (unknown.length > 0) {
    process.stderr.write(`services: unknown service ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})\n`);
    return 2;
  }
  const names = rest;
  const base = values.cluster ? clusterServicesConfig() : defaultServicesConfig();
  let topology: ServicesTopology;
  try {
    topology = topologyFromFlags(
      recordedTopology(base.root, base.topology),
      values['kafka-brokers'],
      values['clickhouse-cluster'],
    );
  } catch (err) {
    process.stderr.write(`services: ${errorMessage(err)}\n`);
    return 2;
  }
  if (action === 'up' && (values['kafka-brokers'] !== undefined || values['clickhouse-cluster'] !== undefined))
    recordTopology(base.root, topology);
  const cfg: ServicesConfig = { ...base, topology };
  const say = (line: string): void => {
    process.stderr.write(`services: ${line}\n`);
  };

  switch (action) {
    case 'up': {
      const t0 = Date.now();
      try {
        const { started } = await up(cfg, { names, say });
        say(
          started.length === 0
            ? 'all healthy, nothing to do'
            : `all healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s (started ${started.join(', ')})`,
        );
        return 0;
      } catch (err) {
        say(
          err instanceof ServicesError
            ? err.message
            : `up failed: ${errorMessage(err)}${err instanceof Error && err.cause ? `\n${errorMessage(err.cause)}` : ''}`,
        );
        return 1;
      }
    }
    case 'down': {
      await down(cfg, { names, say });
      return 0;
    }
    case 'status': {
      const states = await status(cfg, names);
      if (values.json) process.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
      else {
        // Instance names (`clickhouse-s1r2`) are longer than the kinds: the widest one sets the column.
        const nameWidth = Math.max(11, ...states.map((s) => s.name.length + 1));
        for (const s of states) {
          const who = s.pid !== undefined ? `pid ${s.pid}` : s.external ? 'external' : '-';
          process.stdout.write(
            `${s.name.padEnd(nameWidth)} ${s.state.padEnd(10)} ${s.address.padEnd(24)} ${who.padEnd(10)} ${s.detail}\n`,
          );
        }
      }
      return states.every((s) => s.state === 'healthy') ? 0 : 1;
    }
    case 'env': {
      for (const [key, value] of Object.entries(serviceEnv(cfg))) process.stdout.write(`export ${key}=${shellQuote(value)}\n`);
      return 0;
    }
    case 'logs': {
      const n = Number.parseInt(values.lines, 10);
      for (const s of await status(cfg, names)) {
        process.stdout.write(`==> ${s.log} <==\n${await logTail(s.log, Number.isFinite(n) && n > 0 ? n : 40)}\n\n`);
      }
      return 0;
    }
    default:
      process.stderr.write(`services: unknown action "${action}"\n${usage}`);
      return 2;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  servicesCommand(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`services: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
