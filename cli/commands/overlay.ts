import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isExit, parseCommand, runSubcommand, usageError } from '../args.ts';
import { nodesFileSchema, topologyFileSchema } from '../../actuator/tunnels/overlay-input.ts';
import { readLocated } from '../../core/located-json.ts';
import { planOverlay } from '../../actuator/tunnels/overlay-plan.ts';
import { KEY_TIMES_FILE } from '../../actuator/tunnels/overlay-state.ts';
import { routersUsage, runApply, runRotate } from '../overlay-routers.ts';
import {
  keyId,
  overlaySvg,
  setLines,
  summaryTable,
  vyosOps,
  wgQuick,
  type InterfaceKeys,
} from '../../actuator/tunnels/overlay-render.ts';
import { isWireguardKey, wireguardKeyPair, wireguardPublicKey } from '../../core/wireguard-keys.ts';

export const summary =
  'overlay gen -n nodes.json -t topology.json -o DIR: WireGuard hub-and-spoke + mesh configs per node; overlay apply|rotate -d DIR: on the routers';

const usage = `usage: pathpilot overlay gen -n NODES.json -t TOPOLOGY.json -o DIR [--disable-multipath]
                            [--keepalive-primary S] [--keepalive-backup S]

Builds a WireGuard overlay from two files (format: ../shared/reference/overlay-example/README.md):
nodes of a group mesh directly, groups talk through relays, clients behind NAT dial the relays (relays
never dial clients). Per source and destination prefix the lowest priority is the primary path, the
others backups; a prefix a primary and a backup peer of one interface both list stays on the primary
(WireGuard routes a prefix to one peer per interface) and is recorded as the backup's failover prefix.

Writes, per node, DIR/<node>/vyos.set and vyos-ops.json (the /configure payload: one wgN per endpoint,
peers, static routes), DIR/<node>/wgN.conf (wg-quick, for Linux nodes) and DIR/<node>/keys.json; and
DIR/public-keys.json, DIR/key-times.json (when each key was generated), DIR/summary.md, DIR/overlay.svg,
DIR/plan.json. Files holding a private key are mode 0600 and only in that node's directory; a node's
existing keys.json is reused with its key time (no silent re-key).
Errors name the file, line, column and field.

  -n, --nodes FILE         nodes.json
  -t, --topology FILE      topology.json
  -o, --out DIR            output directory (created)
  --disable-multipath      keep only each prefix's primary path (backup peerings left out)
  --keepalive-primary S    persistent keepalive from a client to its primary peers (default 25)
  --keepalive-backup S     … to its backup peers (default 50)

Exit status: 0 written, 1 invalid input (every problem listed), 2 usage errors.
`;

export const subcommands = ['gen', 'apply', 'rotate'] as const;

export function run(args: string[]): Promise<number> {
  return runSubcommand(args, {
    name: 'pathpilot overlay',
    usage: `${usage}\n${routersUsage}`,
    subcommands: { gen: runGen, apply: runApply, rotate: runRotate },
  });
}

/** A node's keys from an earlier run, checked: a broken file is an error, not a silent re-key. */
async function previousKeys(file: string): Promise<Record<string, InterfaceKeys>> {
  if (!existsSync(file)) return {};
  const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, InterfaceKeys>;
  for (const [iface, k] of Object.entries(saved))
    if (!k.privateKey || !isWireguardKey(k.privateKey) || wireguardPublicKey(k.privateKey) !== k.publicKey)
      throw new Error(`${file}: the key of ${iface} is not a WireGuard key pair`);
  return saved;
}

async function writePrivate(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

async function runGen(args: string[]): Promise<number> {
  const name = 'pathpilot overlay gen';
  const parsed = parseCommand(args, {
    name,
    usage,
    options: {
      nodes: { type: 'string', short: 'n' },
      topology: { type: 'string', short: 't' },
      out: { type: 'string', short: 'o' },
      'disable-multipath': { type: 'boolean', default: false },
      'keepalive-primary': { type: 'string' },
      'keepalive-backup': { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.nodes) return usageError(name, '-n NODES.json is required').exit;
  if (!values.topology) return usageError(name, '-t TOPOLOGY.json is required').exit;
  if (!values.out) return usageError(name, '-o DIR is required').exit;
  const seconds = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : usageError(name, `${what} must be 1-65535 seconds`);
  };
  const primary = seconds(values['keepalive-primary'], '--keepalive-primary');
  const backup = seconds(values['keepalive-backup'], '--keepalive-backup');
  if (typeof primary === 'object') return primary.exit;
  if (typeof backup === 'object') return backup.exit;

  let plan;
  try {
    const nodes = await readLocated(values.nodes, nodesFileSchema);
    const topology = await readLocated(values.topology, topologyFileSchema);
    plan = planOverlay(nodes, topology, {
      disableMultipath: values['disable-multipath'],
      ...(primary ? { keepalivePrimaryS: primary } : {}),
      ...(backup ? { keepaliveBackupS: backup } : {}),
    });
  } catch (err) {
    process.stderr.write(`${name}: invalid overlay:\n${(err as Error).message}\n`);
    return 1;
  }

  // Keys: one pair per interface, generated here (this command talks to no router) and written only to
  // the node's own directory; public keys are collected for everyone.
  const keys = new Map<string, InterfaceKeys>();
  const publicKeys: Record<string, Record<string, string>> = {};
  // When each key was generated (the actuator rotates them after 72 h): a reused key keeps its time.
  const previousTimes = await readFile(join(values.out, KEY_TIMES_FILE), 'utf8').then(
    (t) => JSON.parse(t) as Record<string, Record<string, string>>,
    () => ({}) as Record<string, Record<string, string>>,
  );
  const keyTimes: Record<string, Record<string, string>> = {};
  const now = new Date().toISOString();
  for (const pn of plan.nodes) {
    const dir = join(values.out, pn.node.name);
    await mkdir(dir, { recursive: true });
    const saved = await previousKeys(join(dir, 'keys.json'));
    const mine: Record<string, InterfaceKeys> = {};
    for (const i of pn.interfaces) {
      const k = saved[i.name] ?? wireguardKeyPair();
      (keyTimes[pn.node.name] ??= {})[i.name] = (saved[i.name] && previousTimes[pn.node.name]?.[i.name]) || now;
      mine[i.name] = k;
      keys.set(keyId(pn.node.name, i.name), k);
    }
    await writePrivate(join(dir, 'keys.json'), `${JSON.stringify(mine, null, 1)}\n`);
    publicKeys[pn.node.name] = Object.fromEntries(Object.entries(mine).map(([i, k]) => [i, k.publicKey]));
  }
  for (const pn of plan.nodes) {
    const dir = join(values.out, pn.node.name);
    const platform = pn.node.platform ?? 'vyos';
    if (platform === 'vyos') {
      const ops = vyosOps(pn, keys);
      await writePrivate(join(dir, 'vyos-ops.json'), `${JSON.stringify(ops, null, 1)}\n`);
      await writePrivate(join(dir, 'vyos.set'), setLines(ops));
    }
    for (const i of pn.interfaces) await writePrivate(join(dir, `${i.name}.conf`), wgQuick(pn, i.name, keys));
  }
  await writeFile(join(values.out, 'public-keys.json'), `${JSON.stringify(publicKeys, null, 1)}\n`);
  await writeFile(join(values.out, KEY_TIMES_FILE), `${JSON.stringify(keyTimes, null, 1)}\n`);
  const table = summaryTable(plan);
  await writeFile(join(values.out, 'summary.md'), table);
  await writeFile(join(values.out, 'overlay.svg'), overlaySvg(plan));
  // The plan holds no key: what the actuator's failover and rotation read back.
  await writeFile(join(values.out, 'plan.json'), `${JSON.stringify(plan, null, 1)}\n`);
  process.stdout.write(
    `${table}\nwrote ${plan.nodes.length} nodes to ${values.out} (private keys only in each node's directory, mode 0600)\n`,
  );
  return 0;
}
