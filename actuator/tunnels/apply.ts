/**
 * Puts an overlay plan on the routers themselves, with every key generated where it stays:
 *
 * 1. For each node interface the router already has a key for, its public key is read
 *    (`show interfaces wireguard wgN public-key`): the key is kept (no silent re-key). For the others the
 *    router generates a pair (`/generate pki wireguard key-pair`); pathpilot holds that private key in
 *    memory only until the same router's commit below, never stores or logs it.
 * 2. Each router then gets its whole overlay part in one commit (interfaces, peers with the collected
 *    public keys, static routes), with commit-confirm where the router's probe shows it works (confirm.ts);
 *    once every router is in,
 *    the commits are confirmed. A router that refuses stops the apply: the ones already changed are left
 *    to their commit-confirm (1.5) or reported (1.4), and nothing is confirmed.
 *
 * What pathpilot keeps is the public keys (its key state) and when each key was generated.
 */
import type { RouterApi } from '../vyos/types.ts';
import { changeSetConfirm } from './confirm.ts';
import type { OverlayPlan } from './overlay-plan.ts';
import { keyId, vyosOps, type InterfaceKeys } from './overlay-render.ts';

export interface ApplyResult {
  /** Public key per `node/wgN`. */
  publicKeys: Map<string, string>;
  /** Interfaces whose key was generated now (the others kept theirs). */
  generated: string[];
  /** Routers that took their part. */
  applied: string[];
}

export async function applyOverlay(
  plan: OverlayPlan,
  routerFor: (node: string) => RouterApi,
  options: { confirmMinutes?: number } = {},
): Promise<ApplyResult> {
  const keys = new Map<string, InterfaceKeys>();
  const generated: string[] = [];
  for (const pn of plan.nodes) {
    const api = routerFor(pn.node.name);
    for (const i of pn.interfaces) {
      const id = keyId(pn.node.name, i.name);
      const existing = await api.returnValue(['interfaces', 'wireguard', i.name, 'private-key']);
      if (existing) {
        keys.set(id, { publicKey: (await api.show(['interfaces', 'wireguard', i.name, 'public-key'])).trim() });
      } else {
        keys.set(id, await api.generateWireguardKeypair());
        generated.push(id);
      }
    }
  }
  const applied: RouterApi[] = [];
  const names: string[] = [];
  const confirm = await changeSetConfirm(
    plan.nodes.map((pn) => routerFor(pn.node.name)),
    options.confirmMinutes,
  );
  for (const pn of plan.nodes) {
    const api = routerFor(pn.node.name);
    await api.configure(vyosOps(pn, keys), confirm.options(api));
    applied.push(api);
    names.push(pn.node.name);
    // The private keys of this router are in its config now: drop them from memory.
    for (const i of pn.interfaces) {
      const k = keys.get(keyId(pn.node.name, i.name))!;
      keys.set(keyId(pn.node.name, i.name), { publicKey: k.publicKey });
    }
  }
  for (const api of applied) await confirm.confirm(api);
  return { publicKeys: new Map([...keys].map(([k, v]) => [k, v.publicKey])), generated, applied: names };
}
