/**
 * Reads the routers over the VyOS HTTP API: the running config (`/retrieve showConfig []`), the release
 * train (`info()`: `GET /info` on 1.5, else `show version`) and `show interfaces` for each interface's
 * state, and where BGP is configured `show ip bgp summary` for each session's state and the number of
 * prefixes received. Only reads; never configures. The received routes themselves are not read: a site's
 * prefixes come from its connected LANs and the cloud inventory.
 */
import { errorMessage } from '../../core/errors.ts';
import type { RouterApi } from '../vyos/types.ts';
import { bgpSessions, configFacts, interfaceStates, type RouterFacts } from './router-facts.ts';

export interface RouterToRead {
  site: string;
  api: RouterApi;
}

/** One router's facts; throws (naming the site) when its config cannot be read. */
export async function readRouter({ site, api }: RouterToRead): Promise<RouterFacts> {
  const [config, info, shown] = await Promise.all([
    api.showConfig([]),
    api.info(),
    // The state is an annotation: a router that refuses the op-mode call is still discovered.
    api.show(['interfaces']).catch(() => ''),
  ]);
  const facts = configFacts(config ?? {});
  const states = interfaceStates(shown);
  for (const iface of facts.interfaces) {
    const state = states.get(iface.name);
    if (state) iface.state = state;
  }
  if (facts.bgp.localAs) {
    const sessions = bgpSessions(await api.show(['ip', 'bgp', 'summary']).catch(() => ''));
    for (const n of facts.bgp.neighbors) {
      const session = sessions.get(n.address);
      if (session) n.session = session;
    }
  }
  return { site, url: api.url, version: info.train, ...facts };
}

/**
 * Every router at once. One unreadable router fails the whole discovery, naming each that failed: a
 * topology missing a router would propose removing every link it ends.
 */
export async function readRouters(routers: readonly RouterToRead[]): Promise<RouterFacts[]> {
  const results = await Promise.allSettled(routers.map(readRouter));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${routers[i]!.site}: ${errorMessage(r.reason)}`] : []));
  if (failed.length > 0) throw new Error(`cannot read ${failed.length} router(s):\n  ${failed.join('\n  ')}`);
  return results.map((r) => (r as PromiseFulfilledResult<RouterFacts>).value);
}
