/**
 * The proposed `pathpilot.yaml`: discovered sites and links merged with what discovery cannot know.
 *
 * From discovery: each site's provider, region and prefixes (sites.ts) and router train; each link's ends
 * (site, interface, address), kind and, where a circuit or VPN tells, capacity (links.ts, classify.ts).
 * From the current config (`-c`), when there is one: site names and router settings, link ids and a/b
 * orientation, if_index, prices, capacities nothing discovered, kinds the evidence cannot decide, and
 * every other section (paths, classes, policy, actuator, services…) as written. Without one: documented
 * defaults (a link's capacity 1000 Mbps and price 0 until set, the example's classes, direct paths).
 */
import type { ClassConfig, LinkConfig, RootConfig, SiteConfig } from '../../core/config/schema.ts';
import { classifyLink, inventoryNotes, kindSuffix, kindsOf, type ClassifiedLink, type LinkKind } from './classify.ts';
import type { CloudInventory } from './inventory.ts';
import { inferLinks, type InferredEnd, type InferredLink } from './links.ts';
import { directPaths, keptPaths } from './paths.ts';
import type { RouterFacts } from './router-facts.ts';
import { discoverSites, type DiscoveredSite } from './sites.ts';

/** What a link's capacity is taken to be when neither a circuit nor the current config says. */
export const DEFAULT_CAPACITY_MBPS = 1000;
/** The key variable of a router given on the command line (`--router SITE=URL`). */
export const DEFAULT_KEY_ENV = 'PATHPILOT_VYOS_KEY';

export interface ProposedEnd {
  site: string;
  interface: string;
  if_index?: number;
  address?: string;
}

export interface ProposedLink {
  id: string;
  kind: LinkKind;
  a: ProposedEnd;
  b: ProposedEnd;
  capacity_mbps: number;
  cost_per_gb: number;
  monthly_fixed_cost?: number;
  /** A BGP session runs over the link (both ends configure the other as neighbor). */
  bgp?: boolean;
}

export interface ProposedSite {
  id: string;
  name?: string;
  provider: SiteConfig['provider'];
  region: string;
  prefixes: string[];
  router: Record<string, unknown> & { vyos_version: string; asn?: number };
}

/** The proposal as it is written: the current file's other sections untouched. */
export type ProposedConfig = Record<string, unknown> & {
  sites: ProposedSite[];
  links: ProposedLink[];
  paths: unknown[];
};

export interface CurrentConfig {
  root: RootConfig;
  /** The file as written (no defaults filled in, no environment overrides): what the proposal keeps. */
  raw: Record<string, unknown>;
}

export interface ProposeInput {
  /** In the order the sites are listed (a link's a end is the earlier site). */
  routers: readonly RouterFacts[];
  inventory: CloudInventory;
  current?: CurrentConfig;
  /** Traffic classes when there is no current config (the schema needs at least one). */
  defaultClasses: readonly ClassConfig[];
}

export interface Proposal {
  config: ProposedConfig;
  /** Paths of the current config dropped because a link they cross is gone. */
  droppedPaths: string[];
  notes: string[];
}

const endsKey = (x: { site: string; interface: string }, y: { site: string; interface: string }) =>
  [`${x.site}|${x.interface}`, `${y.site}|${y.interface}`].sort().join('~');
/** The short name of a site in link ids: the last part of its id (`aws-use1` → `use1`). */
const shortName = (site: string) => site.split('-').pop() || site;
/** `us-east-1` → `us-east`, `us-central1` → `us-central`: the geography an on-prem site near it is in. */
const geography = (region: string) => region.replace(/-?\d+$/, '');

function proposedSite(site: DiscoveredSite, router: RouterFacts, current: CurrentConfig | undefined): ProposedSite {
  const raw = rawItem(current?.raw, 'sites', site.id);
  // The AS number is the router's own (`protocols bgp system-as`): discovered, never kept.
  const { asn: _keptAsn, ...rawRouter } = (raw?.['router'] ?? {}) as Record<string, unknown>;
  const asn = router.bgp.localAs ? Number(router.bgp.localAs) : undefined;
  // The URL the router was reached at is written for new sites and replaces a configured one; an empty
  // api_url (the lab assigns them) stays empty.
  const writeUrl = !raw || (typeof rawRouter['api_url'] === 'string' && rawRouter['api_url'] !== '');
  return {
    id: site.id,
    ...(site.name ? { name: site.name } : {}),
    provider: site.provider,
    region: site.region,
    prefixes: site.prefixes,
    router: {
      ...rawRouter,
      ...(writeUrl ? { api_url: router.url } : {}),
      ...(raw ? {} : { api_key_env: DEFAULT_KEY_ENV }),
      vyos_version: router.version,
      ...(asn ? { asn } : {}),
    },
  };
}

function rawItem(raw: Record<string, unknown> | undefined, section: string, id: string): Record<string, unknown> | undefined {
  const list = raw?.[section];
  return Array.isArray(list)
    ? (list.find((x) => (x as { id?: unknown })?.id === id) as Record<string, unknown> | undefined)
    : undefined;
}

function end(found: InferredEnd, was: LinkConfig['a'] | undefined): ProposedEnd {
  const address = found.address ?? was?.address;
  return {
    site: found.site,
    interface: found.interface,
    ...(was?.if_index !== undefined ? { if_index: was.if_index } : {}),
    ...(address ? { address } : {}),
  };
}

/** The kind when the evidence did not decide: the current config's if the routers allow it, else a default. */
function fallbackKind(c: ClassifiedLink, was: LinkConfig | undefined, sites: ReadonlyMap<string, DiscoveredSite>): LinkKind {
  const allowed = kindsOf[c.link.transport];
  if (was && allowed.includes(was.kind)) return was.kind;
  const toCloud = [c.link.a, c.link.b].some((e) => sites.get(e.site)?.provider !== 'onprem');
  return c.link.transport === 'ipsec' && toCloud ? 'ipsec' : allowed[0]!;
}

/** The link's ends as a/b: the current config's orientation when it has the link, else the earlier site first. */
function orient(link: InferredLink, was: LinkConfig | undefined, order: ReadonlyMap<string, number>): [InferredEnd, InferredEnd] {
  const aFirst = was
    ? was.a.site === link.a.site && was.a.interface === link.a.interface
    : order.get(link.a.site)! <= order.get(link.b.site)!;
  return aFirst ? [link.a, link.b] : [link.b, link.a];
}

class IdAllocator {
  private readonly used = new Set<string>();
  reserve(id: string): void {
    this.used.add(id);
  }
  next(base: string): string {
    let id = base;
    for (let k = 2; this.used.has(id); k++) id = `${base}-${k}`;
    this.used.add(id);
    return id;
  }
}

function proposeLinks(
  classified: readonly ClassifiedLink[],
  sites: ReadonlyMap<string, DiscoveredSite>,
  order: ReadonlyMap<string, number>,
  current: CurrentConfig | undefined,
  notes: string[],
): ProposedLink[] {
  const currentByEnds = new Map((current?.root.links ?? []).map((l) => [endsKey(l.a, l.b), l]));
  const ids = new IdAllocator();
  for (const l of current?.root.links ?? []) ids.reserve(l.id);
  const kept: ProposedLink[] = [];
  const added: ProposedLink[] = [];
  const unpriced: string[] = [];
  const unsized: string[] = [];
  for (const c of classified) {
    const was = currentByEnds.get(endsKey(c.link.a, c.link.b));
    if (c.dropped) {
      notes.push(
        `${was?.id ?? `${c.link.a.site} ${c.link.a.interface} ↔ ${c.link.b.site} ${c.link.b.interface}`}: gone, ${c.dropped}`,
      );
      continue;
    }
    const [x, y] = orient(c.link, was, order);
    const kind = c.kind ?? fallbackKind(c, was, sites);
    const suffix = c.kind ? c.suffix : kindSuffix[kind];
    const id = was?.id ?? ids.next(`${shortName(x.site)}-${shortName(y.site)}-${suffix}`);
    const capacity = c.capacityMbps ?? was?.capacity_mbps ?? DEFAULT_CAPACITY_MBPS;
    if (!was) {
      unpriced.push(id);
      if (!c.capacityMbps) unsized.push(id);
    }
    if (c.link.down) notes.push(`${id}: an end is disabled or down on its router`);
    for (const d of c.link.bgpDown) notes.push(`${id}: BGP session ${d}`);
    const proposed: ProposedLink = {
      id,
      kind,
      a: end(x, was && (was.a.site === x.site ? was.a : was.b)),
      b: end(y, was && (was.a.site === y.site ? was.a : was.b)),
      capacity_mbps: capacity,
      cost_per_gb: was?.cost_per_gb ?? 0,
      ...(was?.monthly_fixed_cost ? { monthly_fixed_cost: was.monthly_fixed_cost } : {}),
      ...(c.link.bgp ? { bgp: true } : {}),
    };
    (was ? kept : added).push(proposed);
  }
  if (unsized.length > 0)
    notes.push(
      `new links whose capacity nothing reports, set to ${DEFAULT_CAPACITY_MBPS} Mbps: ${unsized.join(', ')} (capacity_mbps)`,
    );
  if (unpriced.length > 0)
    notes.push(`new links priced at 0 per GB until set: ${unpriced.join(', ')} (cost_per_gb, monthly_fixed_cost)`);
  // The current file's order first, new links after it.
  const position = new Map((current?.root.links ?? []).map((l, i) => [l.id, i]));
  kept.sort((p, q) => position.get(p.id)! - position.get(q.id)!);
  return [...kept, ...added];
}

/** An on-prem site no config places: the geography of the cloud region its widest interconnect lands in. */
function guessRegions(sites: Map<string, DiscoveredSite>, links: readonly ProposedLink[], notes: string[]): void {
  for (const site of sites.values()) {
    if (site.placedBy !== 'unknown') continue;
    const landing = links
      .filter((l) => l.kind === 'interconnect' && (l.a.site === site.id || l.b.site === site.id))
      .map((l) => ({ l, far: sites.get(l.a.site === site.id ? l.b.site : l.a.site)! }))
      .filter(({ far }) => far.provider !== 'onprem' && far.placedBy === 'inventory')
      .sort((p, q) => q.l.capacity_mbps - p.l.capacity_mbps || p.l.id.localeCompare(q.l.id))[0];
    if (landing) {
      site.region = geography(landing.far.region);
      notes.push(
        `${site.id}: region "${site.region}" guessed from ${landing.l.id} into ${landing.far.id} (${landing.far.region}): check it`,
      );
    } else notes.push(`${site.id}: on-prem, region unknown: set region`);
  }
}

export function proposeTopology(input: ProposeInput): Proposal {
  const { routers, inventory, current } = input;
  const notes: string[] = [];
  const inference = inferLinks(routers);
  notes.push(...inference.notes);
  const currentSites = new Map((current?.root.sites ?? []).map((s) => [s.id, s]));
  const sites = new Map(discoverSites(routers, inference, inventory, currentSites, notes).map((s) => [s.id, s]));
  const classified = inference.links.map((l) => classifyLink(l, sites, inventory));
  notes.push(...inventoryNotes(classified, inventory));
  for (const u of inference.unmatched)
    notes.push(`${u.site} ${u.interface} (${u.addresses.join(', ') || 'no address'}): no discovered router holds the other end`);

  const order = new Map(routers.map((r, i) => [r.site, i]));
  const links = proposeLinks(classified, sites, order, current, notes);
  const linkIds = new Set(links.map((l) => l.id));
  for (const l of current?.root.links ?? [])
    if (!linkIds.has(l.id) && !notes.some((n) => n.startsWith(`${l.id}: gone`)))
      notes.push(`${l.id}: no longer found on the routers (${l.a.site} ${l.a.interface} ↔ ${l.b.site} ${l.b.interface})`);
  guessRegions(sites, links, notes);

  const rawPaths = Array.isArray(current?.raw['paths']) ? (current.raw['paths'] as unknown[]) : [];
  const { paths, dropped } = current
    ? keptPaths(current.root.paths, rawPaths, linkIds)
    : { paths: directPaths(links), dropped: [] };
  if (dropped.length > 0) notes.push(`paths dropped with their links: ${dropped.map((p) => p.id).join(', ')}`);
  if (!current) notes.push('paths: one per direct link of each adjacent pair; add multi-hop candidates by hand');

  const base: Record<string, unknown> = current ? structuredClone(current.raw) : { version: 1 };
  const config: ProposedConfig = {
    ...base,
    sites: routers.map((r) => proposedSite(sites.get(r.site)!, r, current)),
    links,
    paths,
    ...(current ? {} : { classes: structuredClone([...input.defaultClasses]) }),
  };
  return { config, droppedPaths: dropped.map((p) => p.id), notes };
}
