/**
 * The data-residency proof of the compliance report: from flow bytes over a window, for each
 * `policy.residency` rule, the regions its bound traffic really crossed and whether any of it left the
 * allowed ones. The TE model keeps such traffic on allowed paths (core/config/residency.ts); this reads
 * what the routers exported, so a wrong route, a manual change or a failover shows up here.
 *
 * A flow record is exported by the router at `src_site` and leaves it on `link`, whose far end is the next
 * site: the bytes crossed the exporter's region and that site's. Relays export their own flows, which add
 * their hops. A hop that cannot be told (unknown link or site, or an exporter that is no end of the link)
 * has region `?`, outside every rule: what cannot be placed cannot be proven to stay in.
 */
import { regionMatcher, rulesFor, UNKNOWN_REGION, type ResidencyRoot, type ResidencyRule } from '../../core/config/residency.ts';

/** Flow bytes of one class the router at `src_site` sent towards `dst_site` out of `link` over the window. */
export interface ExportedBytes {
  src_site: string;
  dst_site: string;
  link: string;
  class: string;
  bytes: number;
}

/** Bytes of one class seen in one region; bytes crossing two regions count in each. */
export interface RegionBytes {
  class: string;
  region: string;
  bytes: number;
  /** Whether the region is one the rule allows. */
  allowed: boolean;
}

/** Bound bytes that crossed a region the rule does not allow: who exported them and out of which link. */
export interface ResidencyBreach {
  class: string;
  src_site: string;
  link: string;
  region: string;
  bytes: number;
}

export type ResidencyVerdict = 'proven' | 'violated' | 'no-traffic';

export interface ResidencyProof {
  rule: string;
  /** What the rule binds (empty: every class, every destination), as configured. */
  classes: string[];
  dst_prefixes: string[];
  /** The rule's allowed region patterns. */
  regions: string[];
  verdict: ResidencyVerdict;
  /** Bound bytes that stayed in allowed regions on every hop seen, and those that did not (each byte once). */
  bytes_inside: number;
  bytes_outside: number;
  /** Per class and region crossed, most bytes first. */
  crossed: RegionBytes[];
  /** Why a rule is violated, most bytes first (empty unless violated). */
  breaches: ResidencyBreach[];
}

/** The regions one exported record crossed: the exporter's and the far end of its link's, each once. */
function regionsCrossed(
  row: ExportedBytes,
  regionOf: ReadonlyMap<string, string>,
  linkEnds: ReadonlyMap<string, readonly [string, string]>,
): string[] {
  const region = (site: string | undefined) => (site === undefined ? undefined : regionOf.get(site)) ?? UNKNOWN_REGION;
  const [a, b] = linkEnds.get(row.link) ?? [];
  const next = a === row.src_site ? b : b === row.src_site ? a : undefined;
  const here = region(row.src_site);
  const there = region(next);
  return here === there ? [here] : [here, there];
}

/** The proof for every residency rule of the config, in the config's order. */
export function proveResidency(root: ResidencyRoot, rows: readonly ExportedBytes[]): ResidencyProof[] {
  const rules = root.policy.residency;
  if (rules.length === 0) return [];
  const regionOf = new Map(root.sites.map((s) => [s.id, s.region]));
  const linkEnds = new Map(root.links.map((l) => [l.id, [l.a.site, l.b.site] as const]));
  const allowedBy = new Map(rules.map((r) => [r, regionMatcher(r.regions)]));
  // rulesFor matches prefixes; the rows repeat (destination, class) pairs many times.
  const bindingCache = new Map<string, ResidencyRule[]>();
  const binding = (to: string, cls: string) => {
    const key = `${to}\u0000${cls}`;
    let found = bindingCache.get(key);
    if (!found) bindingCache.set(key, (found = rulesFor(root, to, cls)));
    return found;
  };

  const tallies = new Map(
    rules.map((r) => [
      r,
      { inside: 0, outside: 0, crossed: new Map<string, RegionBytes>(), breaches: new Map<string, ResidencyBreach>() },
    ]),
  );
  for (const row of rows) {
    if (!(row.bytes > 0)) continue;
    const regions = regionsCrossed(row, regionOf, linkEnds);
    for (const rule of binding(row.dst_site, row.class)) {
      const tally = tallies.get(rule)!;
      const allowed = allowedBy.get(rule)!;
      // `?` stays outside even under a `*` pattern: an unplaced hop proves nothing.
      const outside = regions.filter((g) => g === UNKNOWN_REGION || !allowed(g));
      if (outside.length) tally.outside += row.bytes;
      else tally.inside += row.bytes;
      for (const region of regions) {
        const key = `${row.class}\u0000${region}`;
        const cell = tally.crossed.get(key) ?? { class: row.class, region, bytes: 0, allowed: !outside.includes(region) };
        cell.bytes += row.bytes;
        tally.crossed.set(key, cell);
      }
      for (const region of outside) {
        const key = [row.class, row.src_site, row.link, region].join('\u0000');
        const breach = tally.breaches.get(key) ?? { class: row.class, src_site: row.src_site, link: row.link, region, bytes: 0 };
        breach.bytes += row.bytes;
        tally.breaches.set(key, breach);
      }
    }
  }

  const byBytes = <T extends { bytes: number }>(m: Map<string, T>) => [...m.values()].sort((x, y) => y.bytes - x.bytes);
  return rules.map((rule) => {
    const tally = tallies.get(rule)!;
    const verdict: ResidencyVerdict = tally.outside > 0 ? 'violated' : tally.inside > 0 ? 'proven' : 'no-traffic';
    return {
      rule: rule.name,
      classes: [...rule.classes],
      dst_prefixes: [...rule.dst_prefixes],
      regions: [...rule.regions],
      verdict,
      bytes_inside: tally.inside,
      bytes_outside: tally.outside,
      crossed: byBytes(tally.crossed),
      breaches: byBytes(tally.breaches),
    };
  });
}

/** The regions a proof's bound traffic crossed, busiest first (for one-line summaries). */
export function regionsSeen(proof: ResidencyProof): string[] {
  const bytes = new Map<string, number>();
  for (const c of proof.crossed) bytes.set(c.region, (bytes.get(c.region) ?? 0) + c.bytes);
  return [...bytes.entries()].sort((x, y) => y[1] - x[1]).map(([region]) => region);
}
