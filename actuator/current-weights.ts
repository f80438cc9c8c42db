/**
 * What the routers run now, as the optimizer plans against it: per `<pair>|<class>`, the share of the
 * pair's traffic on each candidate path, from the intents of confirmed proposals (oldest first, so the
 * newest wins). A shared WAN rule (class `*`, a failover) carries every class policy routing does not pin;
 * a class pin puts the whole class on one path.
 */
import { pairKey, type Topology } from '../core/config/topology.ts';
import type { RootConfig } from '../core/config/schema.ts';
import type { CurrentWeights, Proposal } from '../core/proposal.ts';
import { allClasses, shares } from './targets/index.ts';

export type { CurrentWeights };

export function currentWeights(
  proposals: readonly Proposal[],
  topology: Topology,
  classes: RootConfig['classes'],
): CurrentWeights {
  const weights: CurrentWeights = new Map();
  const unpinned = classes.filter((c) => !c.pin).map((c) => c.id);
  const confirmed = proposals.filter((p) => p.status === 'confirmed').sort((a, b) => a.created_at - b.created_at);
  for (const p of confirmed) {
    for (const intent of p.intents) {
      if (intent.kind === 'path-weights') {
        const [from, to] = intent.pair;
        const byLink = shares(intent.weights);
        if (Object.keys(byLink).length === 0) continue;
        const split: Record<string, number> = {};
        for (const path of topology.pathsFor(from, to)) {
          const share = byLink[path.links[0]!];
          if (share) split[path.id] = share;
        }
        for (const cls of intent.class === allClasses ? unpinned : [intent.class])
          weights.set(`${pairKey(from, to)}|${cls}`, split);
      } else if (intent.kind === 'class-pin') {
        const [from, to] = intent.pair;
        const path = topology.pathsFor(from, to).find((x) => x.links[0] === intent.link);
        if (path) weights.set(`${pairKey(from, to)}|${intent.class}`, { [path.id]: 1 });
      }
    }
  }
  return weights;
}
