/**
 * WireGuard key rotation, make-before-break and all-or-nothing, over the routers' API:
 *
 * 1. **Refuse** when a peer of the interface is not reachable now (its API down, or its tunnel to the
 *    node not up: a rotation cannot be verified through a dead tunnel and would leave it dead), or when a
 *    peer does not hold the key pathpilot knows (drift: someone re-keyed by hand).
 * 2. Snapshot the interface's private key on the node and the node's peer entry on every peer.
 * 3. The **new key is generated on the node's router** (`/generate pki wireguard key-pair`): the private
 *    key goes from there straight back into that router's config and is never stored or logged by
 *    pathpilot.
 * 4. One change set over every router — the node's private key, each peer's public key for the node —
 *    each commit armed with commit-confirm where the router's probe shows it works (confirm.ts).
 * 5. **Verify** on every peer that a handshake with the new key happened after the change; then confirm
 *    every commit and forget the old public key. Any failure (a commit refused, a handshake missing)
 *    restores every router from the snapshots — commit-confirm would revert them too — so no router is
 *    left with half a rotation.
 */
import type { RouterApi } from '../vyos/types.ts';
import { changeSetConfirm } from './confirm.ts';
import { parseWireguardSummary } from './health.ts';
import type { OverlayPlan } from './overlay-plan.ts';

export interface RotationDeps {
  plan: OverlayPlan;
  routerFor(node: string): RouterApi;
  /** pathpilot's key state: the public key of each `node`'s interface. */
  publicKeyOf(node: string, iface: string): string;
  /** Called once the rotation is verified: the new public key replaces the old. */
  savePublicKey(node: string, iface: string, publicKey: string): Promise<void> | void;
  /** Commit-confirm minutes on routers that support it (0: plain commits). */
  confirmMinutes?: number;
  /** Waits before each verification attempt (a real handshake takes a round trip). */
  wait?: (ms: number) => Promise<void>;
  verifyAttempts?: number;
  now(): number;
}

export type RotationResult =
  | { outcome: 'rotated'; node: string; iface: string; peers: string[]; publicKey: string }
  | { outcome: 'refused' | 'rolled-back'; node: string; iface: string; reason: string };

interface PeerEnd {
  node: string;
  iface: string;
  /** The node's alias on that peer. */
  alias: string;
}

/** The peers of `node`/`iface` and where each holds the node (its interface and peer alias). */
function peersOf(plan: OverlayPlan, node: string, iface: string): PeerEnd[] {
  const mine = plan.nodes.find((n) => n.node.name === node)?.interfaces.find((i) => i.name === iface);
  if (!mine) throw new Error(`${node} has no overlay interface ${iface}`);
  return mine.peers.map((p) => ({ node: p.node, iface: p.iface, alias: node }));
}

/** An error's first line with any WireGuard key in it blanked (a refused commit may echo the private key's path). */
const firstLine = (err: unknown) =>
  ((err as Error).message.split('\n')[0] ?? '').replace(/[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=/g, '(key)');

const ago = (text: string, peer: string) => parseWireguardSummary(text).find((p) => p.peer === peer)?.handshakeAgeS;

export async function rotateInterfaceKey(deps: RotationDeps, node: string, iface: string): Promise<RotationResult> {
  const wait = deps.wait ?? (async () => {});
  const attempts = deps.verifyAttempts ?? 5;
  const peers = peersOf(deps.plan, node, iface);
  const base = ['interfaces', 'wireguard', iface];
  const oldPublic = deps.publicKeyOf(node, iface);
  const refuse = (reason: string): RotationResult => ({ outcome: 'refused', node, iface, reason });

  // 0. Every end on a router pathpilot changes over its API (a Linux node's wg-quick file is not).
  const linux = [node, ...peers.map((p) => p.node)].filter(
    (n) => (deps.plan.nodes.find((x) => x.node.name === n)?.node.platform ?? 'vyos') !== 'vyos',
  );
  if (linux.length > 0)
    return refuse(
      `${linux.join(', ')} run${linux.length === 1 ? 's' : ''} wg-quick, not VyOS: re-key with overlay gen and redeploy the file`,
    );
  const own = deps.routerFor(node);

  // 1. Every peer reachable, holding the key we know, with a live tunnel to the node.
  for (const p of peers) {
    const api = deps.routerFor(p.node);
    let held: string | null;
    let summary: string;
    try {
      held = await api.returnValue(['interfaces', 'wireguard', p.iface, 'peer', p.alias, 'public-key']);
      summary = await api.show(['interfaces', 'wireguard', p.iface, 'summary']);
    } catch (err) {
      return refuse(`peer ${p.node} is not reachable (${firstLine(err)}): it would keep the old key`);
    }
    if (held !== oldPublic)
      return refuse(`peer ${p.node} holds another key for ${node} than pathpilot knows (re-keyed by hand?)`);
    const age = ago(summary, p.alias);
    if (age === undefined || age > 180)
      return refuse(`the tunnel ${p.node} ↔ ${node} is down now: a rotation could not be verified through it`);
  }

  // 2. Snapshots.
  const oldPrivate = await own.returnValue([...base, 'private-key']);
  if (!oldPrivate) return refuse(`${node} has no private key on ${iface}`);
  const snapshots = await Promise.all(
    peers.map((p) => deps.routerFor(p.node).showConfig(['interfaces', 'wireguard', p.iface, 'peer', p.alias])),
  );

  // 3. The new key, generated where it stays.
  const fresh = await own.generateWireguardKeypair();
  const confirm = await changeSetConfirm([own, ...peers.map((p) => deps.routerFor(p.node))], deps.confirmMinutes);
  const changed: RouterApi[] = [];
  const restore = async (why: string): Promise<RotationResult> => {
    // Restore every router from its snapshot (the private key back on the node, the old public key on
    // the peers); a restore failure leaves commit-confirm to revert that router.
    await own.configure([{ op: 'set', path: [...base, 'private-key', oldPrivate] }]).catch(() => undefined);
    await Promise.all(
      peers.map((p, i) =>
        deps
          .routerFor(p.node)
          .configureSection(['interfaces', 'wireguard', p.iface, 'peer', p.alias], snapshots[i] ?? {}, 'load')
          .catch(() => undefined),
      ),
    );
    // The restore is a commit of its own: stop the armed timers so they do not revert it later.
    for (const api of changed) await confirm.confirm(api).catch(() => undefined);
    return { outcome: 'rolled-back', node, iface, reason: why };
  };

  // 4. The change set.
  const changedAt = deps.now();
  try {
    await own.configure([{ op: 'set', path: [...base, 'private-key', fresh.privateKey] }], confirm.options(own));
    changed.push(own);
    for (const p of peers) {
      const api = deps.routerFor(p.node);
      await api.configure(
        [{ op: 'set', path: ['interfaces', 'wireguard', p.iface, 'peer', p.alias, 'public-key', fresh.publicKey] }],
        confirm.options(api),
      );
      changed.push(api);
    }
  } catch (err) {
    return restore(`the change set failed (${firstLine(err)}); every router restored`);
  }

  // 5. Verify a handshake with the new key on every peer, then confirm.
  const pending = new Set(peers.map((p) => p.node));
  for (let a = 0; a < attempts && pending.size > 0; a++) {
    await wait(1000);
    for (const p of peers) {
      if (!pending.has(p.node)) continue;
      const text = await deps
        .routerFor(p.node)
        .show(['interfaces', 'wireguard', p.iface, 'summary'])
        .catch(() => '');
      const age = ago(text, p.alias);
      if (age !== undefined && age * 1000 <= deps.now() - changedAt + 1000) pending.delete(p.node);
    }
  }
  if (pending.size > 0) return restore(`no handshake with the new key from ${[...pending].join(', ')}; every router restored`);
  for (const api of changed) await confirm.confirm(api);
  await deps.savePublicKey(node, iface, fresh.publicKey);
  return { outcome: 'rotated', node, iface, peers: peers.map((p) => p.node), publicKey: fresh.publicKey };
}
