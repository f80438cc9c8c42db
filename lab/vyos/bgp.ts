/**
 * BGP across the lab's routers, as FRR (VyOS's bgpd) runs it on their running configs: sessions, what each
 * router advertises, route-maps on the way out and in, and best-path selection. Pure: a function of every
 * router's config and of which links are up. The twin routes by the selected paths (a wrong local-pref
 * shows up as traffic on the wrong link) and the emulator answers `show ip bgp` from it.
 *
 * Modelled (vyos-facts §2.7; FRR bgpd docs "Route Selection", "Route Maps"):
 * - `protocols bgp system-as`, `parameters router-id` (else the highest interface address), `neighbor <ip>
 *   remote-as <asn|external|internal>`, `shutdown`, `address-family ipv4-unicast` (VyOS emits `no bgp default
 *   ipv4-unicast`: without it nothing is exchanged), its `route-map import|export`, `weight`, and
 *   `address-family ipv4-unicast network <prefix>` (originated, origin IGP).
 * - A session is up when both ends configure each other (each neighbor address is an interface address of
 *   the other router, each remote-as matches the other's system-as), neither is shut down, both have the
 *   address family, and the link between them is up. A session that is down withdraws its routes.
 * - Advertising: a router's best routes, except back to the peer they came from and iBGP-learned ones to
 *   iBGP peers; eBGP prepends the sender's AS (and any `set as-path prepend`); a receiver drops a path with
 *   its own AS in it. Route-maps: rules in number order, `match ip address prefix-list` (prefix-lists with
 *   ge/le), `set local-preference|metric|weight|as-path prepend|community add`; a route no rule permits is
 *   denied (FRR's implicit deny); a named route-map that does not exist denies everything.
 * - Best path, in FRR's order: weight, local-pref (default 100), locally originated, AS-path length, origin,
 *   MED (only between paths from the same neighbouring AS), eBGP over iBGP, router-id, neighbor address.
 *   Not modelled: IGP cost to the next hop (every next hop here is on a connected link), multipath, MED
 *   across ASes (`always-compare-med`), communities acting on anything, `continue`/`call`/`on-match`.
 */
import {
  child,
  entries,
  entriesByNumber,
  parsePrefix,
  prefixContains,
  value,
  values,
  type ConfigNodeJson,
} from './config-values.ts';
import type { ConfigJson } from './types.ts';

export interface BgpRoute {
  prefix: string;
  /** The neighbor the route came from (undefined: originated here). */
  nextHop?: string;
  /** The router that neighbor is (undefined: originated here). */
  peer?: string;
  asPath: number[];
  origin: 'igp' | 'egp' | 'incomplete';
  localPref: number;
  med: number;
  weight: number;
  ebgp: boolean;
  communities: string[];
  /** The advertising router's router-id (tie-break). */
  peerRouterId: string;
}

export interface BgpSession {
  router: string;
  neighbor: string;
  peer?: string;
  up: boolean;
  /** Why it is down (configuration or link). */
  reason?: string;
  received: number;
}

export interface BgpRib {
  /** Per prefix: the selected route first, then the other candidates in selection order. */
  routes: Map<string, BgpRoute[]>;
  sessions: BgpSession[];
}

interface Neighbor {
  address: string;
  remoteAs: string;
  shutdown: boolean;
  afi: boolean;
  importMap?: string;
  exportMap?: string;
  weight: number;
}

interface Speaker {
  name: string;
  config: ConfigJson;
  asn: number;
  routerId: string;
  addresses: Set<string>;
  neighbors: Neighbor[];
  networks: string[];
}

const ip = (s: string) => s.split('/')[0]!;
const ipNum = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** Every interface address of a config (any interface type, any vif), without the prefix length. */
function interfaceAddresses(config: ConfigJson): string[] {
  const out: string[] = [];
  const walk = (node: ConfigNodeJson) => {
    for (const [k, v] of entries(node)) {
      if (k === 'address')
        out.push(
          ...values(v)
            .filter((a) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(a))
            .map(ip),
        );
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v);
    }
  };
  walk(child(config, 'interfaces'));
  return out;
}

function speakerOf(name: string, config: ConfigJson): Speaker | undefined {
  const bgp = child(child(config, 'protocols'), 'bgp');
  const asn = Number(value(child(bgp, 'system-as')));
  if (!bgp || !(asn > 0)) return undefined;
  const addresses = interfaceAddresses(config);
  const routerId =
    value(child(child(bgp, 'parameters'), 'router-id')) ?? [...addresses].sort((a, b) => ipNum(b) - ipNum(a))[0] ?? '0.0.0.0';
  const neighbors = entries(child(bgp, 'neighbor')).map(([address, n]): Neighbor => {
    const afi = child(child(n, 'address-family'), 'ipv4-unicast');
    const rm = child(afi, 'route-map');
    return {
      address,
      remoteAs: value(child(n, 'remote-as')) ?? '',
      shutdown: child(n, 'shutdown') !== undefined,
      afi: afi !== undefined,
      ...(value(child(rm, 'import')) ? { importMap: value(child(rm, 'import'))! } : {}),
      ...(value(child(rm, 'export')) ? { exportMap: value(child(rm, 'export'))! } : {}),
      weight: Number(value(child(afi, 'weight')) ?? 0),
    };
  });
  const networks = entries(child(child(child(bgp, 'address-family'), 'ipv4-unicast'), 'network')).map(([p]) => p);
  return { name, config, asn, routerId, addresses: new Set(addresses), neighbors, networks };
}

/** A prefix-list's verdict on `prefix` (no rule matches: deny). */
function prefixListPermits(config: ConfigJson, list: string, prefix: string): boolean {
  const p = parsePrefix(prefix);
  if (!p) return false;
  for (const [, rule] of entriesByNumber(child(child(child(child(config, 'policy'), 'prefix-list'), list), 'rule'))) {
    const r = parsePrefix(value(child(rule, 'prefix')) ?? '');
    if (!r || !prefixContains(r, p)) continue;
    const ge = value(child(rule, 'ge'));
    const le = value(child(rule, 'le'));
    const ok =
      ge === undefined && le === undefined
        ? p.length === r.length
        : p.length >= Number(ge ?? r.length) && p.length <= Number(le ?? 32);
    if (ok) return value(child(rule, 'action')) === 'permit';
  }
  return false;
}

/** Applies a route-map to a route: the changed route, or undefined when it is denied. */
function applyRouteMap(config: ConfigJson, name: string, route: BgpRoute): BgpRoute | undefined {
  const map = child(child(child(config, 'policy'), 'route-map'), name);
  if (map === undefined) return undefined;
  for (const [, rule] of entriesByNumber(child(map, 'rule'))) {
    const list = value(child(child(child(child(rule, 'match'), 'ip'), 'address'), 'prefix-list'));
    if (list !== undefined && !prefixListPermits(config, list, route.prefix)) continue;
    if (value(child(rule, 'action')) !== 'permit') return undefined;
    const set = child(rule, 'set');
    const out = { ...route, asPath: [...route.asPath], communities: [...route.communities] };
    const lp = value(child(set, 'local-preference'));
    if (lp !== undefined) out.localPref = Number(lp);
    const metric = value(child(set, 'metric'));
    if (metric !== undefined && /^\d+$/.test(metric)) out.med = Number(metric);
    const weight = value(child(set, 'weight'));
    if (weight !== undefined) out.weight = Number(weight);
    const prepend = value(child(child(set, 'as-path'), 'prepend'));
    // Prepending happens on the sender before its own AS is added (FRR prepends the listed ASNs as given).
    if (prepend !== undefined) out.asPath = [...prepend.split(/\s+/).filter(Boolean).map(Number), ...out.asPath];
    const add = values(child(child(set, 'community'), 'add'));
    if (add.length) out.communities = [...new Set([...out.communities, ...add.flatMap((c) => c.split(/\s+/))])];
    return out;
  }
  return undefined;
}

const ORIGIN_RANK = { igp: 0, egp: 1, incomplete: 2 } as const;

/** FRR's best-path order: negative when `a` is preferred. */
export function compareRoutes(a: BgpRoute, b: BgpRoute): number {
  if (a.weight !== b.weight) return b.weight - a.weight;
  if (a.localPref !== b.localPref) return b.localPref - a.localPref;
  const aLocal = a.nextHop === undefined;
  const bLocal = b.nextHop === undefined;
  if (aLocal !== bLocal) return aLocal ? -1 : 1;
  if (a.asPath.length !== b.asPath.length) return a.asPath.length - b.asPath.length;
  if (a.origin !== b.origin) return ORIGIN_RANK[a.origin] - ORIGIN_RANK[b.origin];
  if (a.asPath[0] === b.asPath[0] && a.med !== b.med) return a.med - b.med;
  if (a.ebgp !== b.ebgp) return a.ebgp ? -1 : 1;
  if (a.peerRouterId !== b.peerRouterId) return ipNum(a.peerRouterId) - ipNum(b.peerRouterId);
  return ipNum(a.nextHop ?? '0.0.0.0') - ipNum(b.nextHop ?? '0.0.0.0');
}

/**
 * The BGP RIB of every router that speaks BGP. `linkUp(router, neighbor)`: whether the link a session
 * would run over is up (default: every link is up).
 */
export function bgpRibs(
  configs: ReadonlyMap<string, ConfigJson>,
  linkUp: (router: string, neighbor: string) => boolean = () => true,
): Map<string, BgpRib> {
  const speakers = new Map<string, Speaker>();
  for (const [name, config] of configs) {
    const s = speakerOf(name, config);
    if (s) speakers.set(name, s);
  }
  const owner = new Map<string, string>();
  for (const s of speakers.values()) for (const a of s.addresses) owner.set(a, s.name);

  // Sessions, from each side.
  const sessions = new Map<string, BgpSession[]>();
  const peerings: { from: Speaker; to: Speaker; out: Neighbor; in: Neighbor }[] = [];
  for (const s of speakers.values()) {
    const list: BgpSession[] = [];
    for (const n of s.neighbors) {
      const peerName = owner.get(n.address);
      const peer = peerName ? speakers.get(peerName) : undefined;
      const back = peer?.neighbors.find((m) => s.addresses.has(m.address));
      const asOk = (want: string, actual: number, mine: number) =>
        want === 'external' ? actual !== mine : want === 'internal' ? actual === mine : Number(want) === actual;
      const reason = !peer
        ? 'no BGP speaker has the neighbor address'
        : !back
          ? `${peer.name} does not configure this router as a neighbor`
          : !asOk(n.remoteAs, peer.asn, s.asn) || !asOk(back.remoteAs, s.asn, peer.asn)
            ? 'remote-as does not match the peer'
            : n.shutdown || back.shutdown
              ? 'shut down'
              : !n.afi || !back.afi
                ? 'no address-family ipv4-unicast'
                : !linkUp(s.name, n.address)
                  ? 'link down'
                  : undefined;
      list.push({
        router: s.name,
        neighbor: n.address,
        ...(peer ? { peer: peer.name } : {}),
        up: !reason,
        ...(reason ? { reason } : {}),
        received: 0,
      });
      if (!reason) peerings.push({ from: peer!, to: s, out: back!, in: n });
    }
    sessions.set(s.name, list);
  }

  // Path vector to a fixed point: each round every router advertises its current best routes.
  const best = new Map<string, Map<string, BgpRoute>>();
  for (const s of speakers.values())
    best.set(
      s.name,
      new Map(
        s.networks.map((prefix) => [
          prefix,
          {
            prefix,
            asPath: [],
            origin: 'igp' as const,
            localPref: 100,
            med: 0,
            weight: 32768,
            ebgp: false,
            communities: [],
            peerRouterId: s.routerId,
          },
        ]),
      ),
    );
  let candidates = new Map<string, Map<string, BgpRoute[]>>();
  for (let round = 0; round < 64; round++) {
    candidates = new Map([...speakers.keys()].map((n) => [n, new Map<string, BgpRoute[]>()]));
    for (const s of speakers.values())
      for (const [prefix, r] of best.get(s.name)!) if (!r.nextHop) candidates.get(s.name)!.set(prefix, [r]);
    for (const { from, to, out, in: inbound } of peerings) {
      const ebgp = from.asn !== to.asn;
      for (const route of best.get(from.name)!.values()) {
        if (route.peer === to.name) continue; // not back to where it came from
        if (!ebgp && route.nextHop !== undefined && !route.ebgp) continue; // iBGP split horizon
        let sent: BgpRoute | undefined = { ...route, asPath: [...route.asPath], communities: [...route.communities] };
        if (out.exportMap) sent = applyRouteMap(from.config, out.exportMap, sent);
        if (!sent) continue;
        const asPath = ebgp ? [from.asn, ...sent.asPath] : sent.asPath;
        if (asPath.includes(to.asn)) continue; // loop
        let got: BgpRoute | undefined = {
          prefix: sent.prefix,
          nextHop: inbound.address,
          peer: from.name,
          asPath,
          origin: sent.origin,
          // Local-pref is not carried over eBGP; MED is not passed on beyond the neighbouring AS.
          localPref: ebgp ? 100 : sent.localPref,
          med: sent.nextHop === undefined || !ebgp ? sent.med : 0,
          weight: inbound.weight,
          ebgp,
          communities: sent.communities,
          peerRouterId: from.routerId,
        };
        if (inbound.importMap) got = applyRouteMap(to.config, inbound.importMap, got);
        if (!got) continue;
        const list = candidates.get(to.name)!;
        list.set(got.prefix, [...(list.get(got.prefix) ?? []), got]);
      }
    }
    let changed = false;
    for (const s of speakers.values()) {
      const next = new Map<string, BgpRoute>();
      for (const [prefix, list] of candidates.get(s.name)!) next.set(prefix, [...list].sort(compareRoutes)[0]!);
      const prev = best.get(s.name)!;
      if (next.size !== prev.size || [...next].some(([p, r]) => JSON.stringify(prev.get(p)) !== JSON.stringify(r)))
        changed = true;
      best.set(s.name, next);
    }
    if (!changed) break;
  }

  const out = new Map<string, BgpRib>();
  for (const s of speakers.values()) {
    const routes = new Map<string, BgpRoute[]>();
    for (const [prefix, list] of candidates.get(s.name)!) routes.set(prefix, [...list].sort(compareRoutes));
    const list = sessions.get(s.name)!;
    for (const sess of list) sess.received = [...routes.values()].flat().filter((r) => r.nextHop === sess.neighbor).length;
    out.set(s.name, { routes, sessions: list });
  }
  return out;
}

/** The selected route for an address (longest prefix match over the RIB), or undefined. */
export function bgpLookup(rib: BgpRib | undefined, prefix: string): BgpRoute | undefined {
  const target = parsePrefix(prefix);
  if (!rib || !target) return undefined;
  let found: { len: number; route: BgpRoute } | undefined;
  for (const [p, list] of rib.routes) {
    const pp = parsePrefix(p);
    if (pp && prefixContains(pp, target) && (!found || pp.length > found.len)) found = { len: pp.length, route: list[0]! };
  }
  return found?.route;
}

/** `show ip bgp` as FRR prints its table (status `*>` for the best path). */
export function showIpBgp(rib: BgpRib | undefined, routerId: string, asn: number): string {
  const lines = [`BGP table version is 1, local router ID is ${routerId}, vrf id 0`, `Default local pref 100, local AS ${asn}`,
    'Status codes:  s suppressed, d damped, h history, * valid, > best, = multipath,', '               i internal, r RIB-failure, S Stale, R Removed',
    'Origin codes:  i - IGP, e - EGP, ? - incomplete', '',
    '    Network          Next Hop            Metric LocPrf Weight Path']; // prettier-ignore
  for (const [prefix, list] of [...(rib?.routes ?? new Map<string, BgpRoute[]>())].sort(([a], [b]) => a.localeCompare(b)))
    list.forEach((r, i) => {
      const code = { igp: 'i', egp: 'e', incomplete: '?' }[r.origin];
      lines.push(
        `${i === 0 ? '*>' : '* '}${r.ebgp || !r.nextHop ? ' ' : 'i'}${(i === 0 ? prefix : '').padEnd(17)}${(r.nextHop ?? '0.0.0.0').padEnd(20)}${String(r.med).padStart(6)}${String(r.localPref).padStart(7)}${String(r.weight).padStart(7)} ${[...r.asPath, code].join(' ')}`,
      );
    });
  lines.push('', `Displayed  ${rib?.routes.size ?? 0} routes and ${[...(rib?.routes.values() ?? [])].flat().length} total paths`);
  return lines.join('\n') + '\n';
}
