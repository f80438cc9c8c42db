/**
 * `pathpilot overlay apply|rotate`: an overlay written by `overlay gen` put on, or re-keyed on, the routers
 * of a pathpilot.yaml — each VyOS node of the overlay is the router of the site with its name. Keys are
 * generated on the routers (private keys never leave them); the public keys and their times are written
 * back to the overlay directory, which the actuator's tunnel watch reads.
 */
import { isExit, parseCommand, usageError } from './args.ts';
import { applyOverlay } from '../actuator/tunnels/apply.ts';
import { readOverlayDir } from '../actuator/tunnels/overlay-state.ts';
import { rotateInterfaceKey } from '../actuator/tunnels/rotation.ts';
import { siteClientsFromConfig } from '../actuator/site-clients.ts';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { errorMessage } from '../core/errors.ts';

export const routersUsage = `usage: pathpilot overlay apply -d DIR [-c FILE] [--confirm-minutes N]
       pathpilot overlay rotate -d DIR --node NAME --iface wgN [-c FILE]

apply: puts the overlay in DIR (written by \`overlay gen\`) on the routers: each VyOS node is the router of
the pathpilot.yaml site with its name. An interface without a key gets one generated on its router; one
change set over every router, with commit-confirm where the router supports it. rotate: a new key for one
interface, make-before-break (generated on the node's router, every peer learns it in one change set,
handshakes verified before the old key is forgotten; refused while a peer is unreachable). Both write the
public keys and their times back to DIR/public-keys.json and DIR/key-times.json.

  -d, --dir DIR            overlay gen's output directory
  -c, --config FILE        pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
  --confirm-minutes N      commit-confirm minutes (default 2)
  --node NAME, --iface wgN the interface to re-key

Exit status: 0 done, 1 refused or failed (routers restored), 2 usage errors.
`;

const options = {
  dir: { type: 'string', short: 'd' },
  config: { type: 'string', short: 'c' },
  'confirm-minutes': { type: 'string', default: '2' },
  node: { type: 'string' },
  iface: { type: 'string' },
} as const;

/** The overlay, its routers (from the config's sites) and the confirm minutes, or an exit code. */
async function setup(name: string, args: string[]) {
  const parsed = parseCommand(args, { name, usage: routersUsage, options });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  if (!values.dir) return usageError(name, '-d DIR is required').exit;
  const minutes = Number(values['confirm-minutes']);
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 60) return usageError(name, '--confirm-minutes must be 0-60').exit;
  try {
    const overlay = await readOverlayDir(values.dir);
    const config = loadConfig(values.config, process.env);
    const topology = new Topology(config.root);
    const missing = overlay.plan.nodes
      .filter((n) => (n.node.platform ?? 'vyos') === 'vyos' && !topology.sites.has(n.node.name))
      .map((n) => n.node.name);
    if (missing.length)
      throw new Error(
        `overlay nodes ${missing.join(', ')} are not sites of the configuration: name each node after the site whose router runs it`,
      );
    // The keys the actuator rotated (actuator.router_keys.store), else each site's api_key_env.
    const { routerFor } = siteClientsFromConfig(config, process.env, { topology });
    return { values, overlay, routerFor, minutes };
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

export async function runApply(args: string[]): Promise<number> {
  const name = 'pathpilot overlay apply';
  const s = await setup(name, args);
  if (typeof s === 'number') return s;
  try {
    const r = await applyOverlay(s.overlay.plan, s.routerFor, { confirmMinutes: s.minutes });
    // Every key the routers hold is recorded: a new one with its time now, a kept one that differs from the
    // file too (the routers are the truth).
    const now = Date.now();
    for (const [id, key] of r.publicKeys) {
      const [node, iface] = id.split('/') as [string, string];
      const known = (() => {
        try {
          return s.overlay.publicKeyOf(node, iface);
        } catch {
          return undefined;
        }
      })();
      if (r.generated.includes(id) || known !== key) await s.overlay.saveKey!(node, iface, key, now);
    }
    process.stdout.write(
      `applied to ${r.applied.length} routers (${r.applied.join(', ')}); ${r.generated.length} keys generated on their routers` +
        `${r.generated.length ? ` (${r.generated.join(', ')})` : ''}; public keys in ${s.values.dir}/public-keys.json\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

export async function runRotate(args: string[]): Promise<number> {
  const name = 'pathpilot overlay rotate';
  const s = await setup(name, args);
  if (typeof s === 'number') return s;
  const { node, iface } = s.values;
  if (!node || !iface) return usageError(name, '--node NAME and --iface wgN are required').exit;
  try {
    const r = await rotateInterfaceKey(
      {
        plan: s.overlay.plan,
        routerFor: s.routerFor,
        publicKeyOf: s.overlay.publicKeyOf,
        savePublicKey: (n, i, key) => s.overlay.saveKey!(n, i, key, Date.now()),
        confirmMinutes: s.minutes,
        wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => Date.now(),
      },
      node,
      iface,
    );
    if (r.outcome === 'rotated') {
      process.stdout.write(`${node} ${iface}: rotated; ${r.peers.length} peers hold the new key (${r.peers.join(', ')})\n`);
      return 0;
    }
    process.stderr.write(`${name}: ${node} ${iface}: ${r.outcome}: ${r.reason}\n`);
    return 1;
  } catch (err) {
    process.stderr.write(`${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}
