/**
 * pathpilot's firewall rules (`firewall ipv4 forward filter rule N`, VyOS 1.4/1.5 syntax): an intent owns
 * the rule numbers [first, last] of a router's forward chain — the security groups' blocks — and sets the
 * rules it lists whole, deleting the others in its range; rules outside the range (the operator's own,
 * or another owner's) are never touched. Each rule is its own touched subtree, so a change to one rule
 * sends only that rule's diff and a rollback restores exactly the rules touched.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { FirewallRulesIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { check, child, type ActuationTarget } from './types.ts';

const RULES = ['firewall', 'ipv4', 'forward', 'filter', 'rule'];

/** Every touched rule of the intent against the router's rules before it (`before`: null when none). */
function ruleSubtrees(intent: FirewallRulesIntent, before: ConfigJson | null): { path: string[]; desired: ConfigJson | null }[] {
  const numbers = new Set(Object.keys(intent.rules));
  for (const n of Object.keys(before ?? {})) if (Number(n) >= intent.first && Number(n) <= intent.last) numbers.add(n);
  return [...numbers]
    .sort((a, b) => Number(a) - Number(b))
    .map((n) => ({ path: [...RULES, n], desired: (intent.rules[n] as ConfigJson | undefined) ?? null }));
}

export const firewallTarget: ActuationTarget<'firewall-rules', ConfigJson | null | undefined> = {
  name: 'firewall-rules',
  kinds: ['firewall-rules'],
  contexts: ['firewallForward'],
  read: (pre) => pre.firewallForward,
  render(intent, state, { touch }) {
    for (const s of ruleSubtrees(intent, state ?? null)) touch(s.path, child(state ?? null, s.path[5]!)).desired = s.desired;
  },
  effect(intent, dataplane) {
    const running = child(child(child(child(dataplane.config, 'firewall'), 'ipv4'), 'forward'), 'filter');
    return check(subtreeProblems(ruleSubtrees(intent, child(running, 'rule')), dataplane.config, (p) => `rule ${p[5]}`));
  },
  cases(topology: Topology, router: string) {
    if (!topology.sites.has(router)) return [];
    const intent: FirewallRulesIntent = {
      kind: 'firewall-rules',
      router,
      first: 10_000,
      last: 10_999,
      rules: {
        '10000': { action: 'accept', protocol: 'tcp', destination: { address: '10.51.10.0/24', port: '80,443' } },
        '10005': {
          action: 'accept',
          protocol: 'tcp',
          source: { address: '10.50.0.0/16' },
          time: { weekdays: 'Mon', starttime: '17:00:00', stoptime: '23:59:59' },
        },
        '10010': { action: 'drop', destination: { address: '10.51.10.0/24' } },
      },
    };
    return [{ name: 'security-group rules with a time window in their block', intents: [intent] }];
  },
};
