/**
 * pathpilot's firewall rules (`firewall ipv4|ipv6 forward|input filter rule N`, VyOS 1.4/1.5 syntax): an
 * intent owns the rule numbers [first, last] of one chain of a router — the security groups' blocks — and
 * sets the rules it lists whole, deleting the others in its range; rules outside the range (the
 * operator's own, or another owner's) are never touched. Each rule is its own touched subtree, so a change
 * to one rule sends only that rule's diff and a rollback restores exactly the rules touched. One target per
 * chain (each reads its own rules before the change); the registry gives each the intents of its chain.
 */
import type { Topology } from '../../core/config/topology.ts';
import type { FirewallRulesIntent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { check, child, contextPaths, type ActuationTarget, type ContextName } from './types.ts';

export type FirewallFamily = NonNullable<FirewallRulesIntent['family']>;
export type FirewallChain = NonNullable<FirewallRulesIntent['chain']>;

const CONTEXT: Record<FirewallFamily, Record<FirewallChain, ContextName>> = {
  ipv4: { forward: 'firewallForward', input: 'firewallInput' },
  ipv6: { forward: 'firewallForward6', input: 'firewallInput6' },
};

/** The chain an intent names (ipv4 forward when it names none). */
export const chainOf = (i: FirewallRulesIntent): { family: FirewallFamily; chain: FirewallChain } => ({
  family: i.family ?? 'ipv4',
  chain: i.chain ?? 'forward',
});

/** Conformance rules of one chain: an address of the family, a port, a time window. */
function caseRules(family: FirewallFamily): Record<string, ConfigJson> {
  const [dst, src] = family === 'ipv4' ? ['10.51.10.0/24', '10.50.0.0/16'] : ['2001:db8:51:10::/64', '2001:db8:50::/48'];
  return {
    '10000': { action: 'accept', protocol: 'tcp', destination: { address: dst, port: '80,443' } },
    '10005': {
      action: 'accept',
      protocol: 'tcp',
      source: { address: src },
      time: { weekdays: 'Mon', starttime: '17:00:00' },
    },
    '10010': { action: 'drop', destination: { address: dst } },
  };
}

function firewallTargetFor(
  family: FirewallFamily,
  chain: FirewallChain,
): ActuationTarget<'firewall-rules', ConfigJson | null | undefined> {
  const context = CONTEXT[family][chain];
  const rulesPath = [...contextPaths[context]];
  /** Every touched rule of the intent against the chain's rules before it (`before`: null when none). */
  const ruleSubtrees = (intent: FirewallRulesIntent, before: ConfigJson | null) => {
    const numbers = new Set(Object.keys(intent.rules));
    for (const n of Object.keys(before ?? {})) if (Number(n) >= intent.first && Number(n) <= intent.last) numbers.add(n);
    return [...numbers]
      .sort((a, b) => Number(a) - Number(b))
      .map((n) => ({ path: [...rulesPath, n], desired: (intent.rules[n] as ConfigJson | undefined) ?? null }));
  };
  return {
    name: family === 'ipv4' && chain === 'forward' ? 'firewall-rules' : `firewall-rules ${family} ${chain}`,
    kinds: ['firewall-rules'],
    contexts: [context],
    read: (pre) => pre[context],
    render(intent, state, { touch }) {
      for (const s of ruleSubtrees(intent, state ?? null)) touch(s.path, child(state ?? null, s.path[5]!)).desired = s.desired;
    },
    effect(intent, dataplane) {
      const running = rulesPath.slice(0, -1).reduce<ConfigJson | null>((c, k) => child(c, k), dataplane.config);
      return check(subtreeProblems(ruleSubtrees(intent, child(running, 'rule')), dataplane.config, (p) => `rule ${p[5]}`));
    },
    cases(topology: Topology, router: string) {
      if (!topology.sites.has(router)) return [];
      const intent: FirewallRulesIntent = {
        kind: 'firewall-rules',
        router,
        ...(family === 'ipv4' ? {} : { family }),
        ...(chain === 'forward' ? {} : { chain }),
        first: 10_000,
        last: 10_999,
        rules: caseRules(family),
      };
      return [{ name: `security-group rules with a time window in their block (${family} ${chain})`, intents: [intent] }];
    },
  };
}

/** One target per chain, each with the intents it claims. */
export const firewallTargets = (['ipv4', 'ipv6'] as const).flatMap((family) =>
  (['forward', 'input'] as const).map((chain) => ({
    target: firewallTargetFor(family, chain),
    claims: (i: FirewallRulesIntent) => {
      const c = chainOf(i);
      return c.family === family && c.chain === chain;
    },
  })),
);

/** The ipv4 forward chain's target (what security groups and threat feeds use most). */
export const firewallTarget = firewallTargets[0]!.target;
