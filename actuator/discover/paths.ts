/**
 * Candidate paths of a proposed topology. Paths are policy, not something a router says: with a current
 * config its paths are kept, except those crossing a link that is gone (dropped, and listed); without
 * one, each pair of adjacent sites gets its direct links as paths, widest first — a starting point for
 * the operator, who adds the multi-hop candidates.
 */
import type { PathConfig } from '../../core/config/schema.ts';

/** What choosing direct paths needs of a link. */
interface DirectLink {
  id: string;
  a: { site: string };
  b: { site: string };
  capacity_mbps: number;
}

export function keptPaths(
  current: readonly PathConfig[],
  raw: readonly unknown[],
  linkIds: ReadonlySet<string>,
): { paths: unknown[]; dropped: PathConfig[] } {
  const paths: unknown[] = [];
  const dropped: PathConfig[] = [];
  current.forEach((p, i) => {
    if (p.links.every((l) => linkIds.has(l))) paths.push(raw[i] ?? p);
    else dropped.push(p);
  });
  return { paths, dropped };
}

/** One path per direct link of every ordered pair of adjacent sites, the widest link first. */
export function directPaths(links: readonly DirectLink[]): PathConfig[] {
  const byPair = new Map<string, { from: string; to: string; links: DirectLink[] }>();
  for (const l of links)
    for (const [from, to] of [
      [l.a.site, l.b.site],
      [l.b.site, l.a.site],
    ] as const) {
      const entry = byPair.get(`${from}>${to}`) ?? { from, to, links: [] };
      entry.links.push(l);
      byPair.set(`${from}>${to}`, entry);
    }
  return [...byPair.values()].flatMap(({ from, to, links: direct }) =>
    [...direct]
      .sort((x, y) => y.capacity_mbps - x.capacity_mbps || x.id.localeCompare(y.id))
      .map((l, i) => ({ id: `${from}.${to}.${i + 1}`, from, to, links: [l.id], priority: i + 1 })),
  );
}
