/**
 * A `firewall group network-group` pathpilot keeps (a threat feed's networks, bounded and allow-listed
 * before it gets here: actuator/security/threat-feed.ts): the group is set whole — a feed update is the
 * minimal diff of its members — or deleted. The rules that drop its members reference it by name.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { FirewallGroupIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { check, child, type ActuationTarget } from './types.ts';

function groupSubtree(i: FirewallGroupIntent): { path: string[]; desired: ConfigJson | null } {
  const path = ['firewall', 'group', 'network-group', i.group];
  if (i.remove || i.networks.length === 0) return { path, desired: null };
  const network = i.networks.length === 1 ? i.networks[0]! : [...i.networks];
  return { path, desired: { network, ...(i.description ? { description: i.description } : {}) } };
}

export const firewallGroupTarget: ActuationTarget<'firewall-group', ConfigJson | null | undefined> = {
  name: 'firewall-group',
  kinds: ['firewall-group'],
  contexts: ['networkGroups'],
  read: (pre) => pre.networkGroups,
  render(intent, state, { touch }) {
    const s = groupSubtree(intent);
    touch(s.path, child(state ?? null, intent.group)).desired = s.desired;
  },
  effect(intent, dataplane) {
    return check(subtreeProblems([groupSubtree(intent)], dataplane.config, (p) => `network-group ${p[3]}`));
  },
  cases(topology: Topology, router: string) {
    if (!topology.sites.has(router)) return [];
    const intent: FirewallGroupIntent = {
      kind: 'firewall-group',
      router,
      group: 'pp-threat-conformance',
      networks: ['203.0.113.0/24', '198.51.100.66/32'],
      description: 'pathpilot threat feed',
    };
    return [{ name: 'a threat feed network group', intents: [intent] }];
  },
};
