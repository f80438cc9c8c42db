/**
 * What a proposal changes in the topology, limited to what discovery can know: per site its provider,
 * region, prefixes, router train and BGP AS; per link its kind, ends (site, interface, address), capacity
 * and whether BGP runs over it.
 * Names, prices, if_index and every other section are the current config's by construction, so they are
 * not compared. Links are matched by id (the proposal keeps the id of a link whose ends it found again).
 */
import { canonicalCidr } from './net.ts';

export interface SiteView {
  id: string;
  provider: string;
  region: string;
  prefixes: readonly string[];
  router: { vyos_version: string; asn?: number };
}

export interface LinkView {
  id: string;
  kind: string;
  a: { site: string; interface: string; address?: string };
  b: { site: string; interface: string; address?: string };
  capacity_mbps: number;
  bgp?: boolean;
}

export interface TopologyView {
  sites: readonly SiteView[];
  links: readonly LinkView[];
}

export interface FieldChange {
  field: string;
  current: unknown;
  discovered: unknown;
}

export interface TopologyDiff {
  equal: boolean;
  sites: { added: SiteView[]; removed: SiteView[]; changed: { id: string; changes: FieldChange[] }[] };
  links: { added: LinkView[]; removed: LinkView[]; changed: { id: string; changes: FieldChange[] }[] };
  paths: { dropped: string[] };
}

const prefixSet = (p: readonly string[]) => [...new Set(p.map((x) => canonicalCidr(x) ?? x))].sort();
const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

function siteChanges(cur: SiteView, disc: SiteView): FieldChange[] {
  const fields: [string, unknown, unknown][] = [
    ['provider', cur.provider, disc.provider],
    ['region', cur.region, disc.region],
    ['prefixes', prefixSet(cur.prefixes), prefixSet(disc.prefixes)],
    ['router.vyos_version', cur.router.vyos_version, disc.router.vyos_version],
    ['router.asn', cur.router.asn, disc.router.asn],
  ];
  return fields.filter(([, c, d]) => !same(c, d)).map(([field, c, d]) => ({ field, current: c, discovered: d }));
}

function linkChanges(cur: LinkView, disc: LinkView): FieldChange[] {
  const fields: [string, unknown, unknown][] = [['kind', cur.kind, disc.kind]];
  for (const e of ['a', 'b'] as const)
    for (const k of ['site', 'interface', 'address'] as const) fields.push([`${e}.${k}`, cur[e][k], disc[e][k]]);
  fields.push(['capacity_mbps', cur.capacity_mbps, disc.capacity_mbps], ['bgp', cur.bgp ?? false, disc.bgp ?? false]);
  return fields.filter(([, c, d]) => !same(c, d)).map(([field, c, d]) => ({ field, current: c, discovered: d }));
}

function diffById<T extends { id: string }>(
  current: readonly T[],
  discovered: readonly T[],
  changes: (c: T, d: T) => FieldChange[],
) {
  const byId = new Map(discovered.map((d) => [d.id, d]));
  const currentIds = new Set(current.map((c) => c.id));
  return {
    added: discovered.filter((d) => !currentIds.has(d.id)),
    removed: current.filter((c) => !byId.has(c.id)),
    changed: current.flatMap((c) => {
      const d = byId.get(c.id);
      const list = d ? changes(c, d) : [];
      return list.length > 0 ? [{ id: c.id, changes: list }] : [];
    }),
  };
}

export function diffTopology(current: TopologyView, proposed: TopologyView, droppedPaths: readonly string[] = []): TopologyDiff {
  const sites = diffById(current.sites, proposed.sites, siteChanges);
  const links = diffById(current.links, proposed.links, linkChanges);
  const parts = [sites.added, sites.removed, sites.changed, links.added, links.removed, links.changed, droppedPaths];
  return { equal: parts.every((p) => p.length === 0), sites, links, paths: { dropped: [...droppedPaths] } };
}

const show = (v: unknown) => (Array.isArray(v) ? `[${v.join(', ')}]` : v === undefined ? '(none)' : String(v));
const ends = (l: LinkView) => `${l.a.site} ${l.a.interface} ↔ ${l.b.site} ${l.b.interface}`;

/** The diff as a reviewer reads it: one line per site or link, `+` added, `-` removed, `~` changed. */
export function formatDiff(d: TopologyDiff): string {
  if (d.equal) return 'no differences: the discovered topology matches the current config\n';
  const lines: string[] = [];
  const count = (x: { added: unknown[]; removed: unknown[]; changed: unknown[] }) =>
    `${x.added.length} added, ${x.removed.length} removed, ${x.changed.length} changed`;
  lines.push(`sites: ${count(d.sites)}`);
  for (const s of d.sites.added) lines.push(`  + ${s.id} (${s.provider} ${s.region}, ${s.prefixes.join(', ')})`);
  for (const s of d.sites.removed) lines.push(`  - ${s.id}`);
  for (const c of d.sites.changed)
    for (const f of c.changes) lines.push(`  ~ ${c.id}: ${f.field} ${show(f.current)} → ${show(f.discovered)}`);
  lines.push(`links: ${count(d.links)}`);
  for (const l of d.links.added) lines.push(`  + ${l.id} (${l.kind}, ${ends(l)}, ${l.capacity_mbps} Mbps)`);
  for (const l of d.links.removed) lines.push(`  - ${l.id} (${l.kind}, ${ends(l)})`);
  for (const c of d.links.changed)
    for (const f of c.changes) lines.push(`  ~ ${c.id}: ${f.field} ${show(f.current)} → ${show(f.discovered)}`);
  if (d.paths.dropped.length > 0) lines.push(`paths: ${d.paths.dropped.length} dropped (${d.paths.dropped.join(', ')})`);
  return lines.join('\n') + '\n';
}
