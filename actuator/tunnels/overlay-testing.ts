/**
 * The reference overlay on emulated routers, for tests (unit and functional): its plan from the
 * fixture, a key pair per interface, the routers running it, the lab's view of the tunnels between them,
 * and intents applied the way the rollout engine applies them (targets/testing.ts).
 */
import { readFileSync } from 'node:fs';
import { wireguardKeyPair } from '../../core/wireguard-keys.ts';
import type { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { ConfigJson } from '../../lab/vyos/types.ts';
import { wireguardEnds, wireguardTunnels, type TunnelState } from '../../lab/vyos/wireguard-tunnels.ts';
import { parseLocated } from '../../core/located-json.ts';
import { nodesFileSchema, topologyFileSchema } from './overlay-input.ts';
import { planOverlay, type OverlayOptions, type OverlayPlan } from './overlay-plan.ts';
import { keyId, type InterfaceKeys } from './overlay-render.ts';

const fixtures = 'test/fixtures/overlay';
export const referenceNodesText = readFileSync(`${fixtures}/nodes.json`, 'utf8');
export const referenceTopologyText = readFileSync(`${fixtures}/topology.json`, 'utf8');

/** The plan of the overlay in these files (the reference one by default). */
export function overlayPlan(
  nodes = referenceNodesText,
  topology = referenceTopologyText,
  options: OverlayOptions = {},
): OverlayPlan {
  return planOverlay(
    parseLocated('nodes.json', nodes, nodesFileSchema),
    parseLocated('topology.json', topology, topologyFileSchema),
    options,
  );
}

/** A fresh key pair per interface of the plan, keyed `node/wgN`. */
export function interfaceKeys(plan: OverlayPlan): Map<string, InterfaceKeys> {
  const keys = new Map<string, InterfaceKeys>();
  for (const n of plan.nodes) for (const i of n.interfaces) keys.set(keyId(n.node.name, i.name), wireguardKeyPair());
  return keys;
}

/** The address an interface listens on (its node's endpoint host). */
export const underlayOf = (plan: OverlayPlan) => (node: string, iface: string) =>
  plan.nodes.find((n) => n.node.name === node)?.interfaces.find((i) => i.name === iface)?.listen.host;

/** The tunnels between `routers` as their running configs make them. */
export function tunnelsOf(plan: OverlayPlan, routers: Iterable<EmulatedRouter>): TunnelState[] {
  const ends = [...routers].flatMap((r) => wireguardEnds(r.name, r.showConfig(['interfaces', 'wireguard']) as ConfigJson));
  return wireguardTunnels(ends, underlayOf(plan));
}

export { applyIntents } from '../targets/testing.ts';
