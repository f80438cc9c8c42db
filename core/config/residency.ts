/**
 * Data residency (`policy.residency`): per traffic class and/or destination prefixes, the regions its
 * traffic may cross (site `region`s, `*` as a wildcard: `eu-*`, `europe-*`). A path crosses the regions of
 * every site on it (its ends and its relays); a path leaving the allowed regions is never a candidate for
 * that traffic — a hard constraint of the TE model, reported as infeasible when no path qualifies.
 */
import ipaddr from 'ipaddr.js';
import { pathRelays } from './route-security.ts';

export interface ResidencyRoot {
  sites: readonly { id: string; region: string; prefixes: readonly string[] }[];
  links: readonly { id: string; a: { site: string }; b: { site: string } }[];
  policy: { residency: readonly ResidencyRule[] };
}

export interface ResidencyRule {
  name: string;
  /** Class ids it binds (empty: every class). */
  classes: readonly string[];
  /** Destination prefixes it binds (empty: every destination). */
  dst_prefixes: readonly string[];
  /** Region patterns the traffic may cross. */
  regions: readonly string[];
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The region of a site the config does not know (or of a hop that cannot be told). */
export const UNKNOWN_REGION = '?';

/** A test of regions against a rule's region patterns (compiled once, for the many regions of a report). */
export function regionMatcher(patterns: readonly string[]): (region: string) => boolean {
  const allowed = patterns.map(glob);
  return (region) => allowed.some((a) => a.test(region));
}

const overlaps = (a: string, b: string) => {
  try {
    const [ia, la] = ipaddr.parseCIDR(a);
    const [ib, lb] = ipaddr.parseCIDR(b);
    if (ia.kind() !== ib.kind()) return false;
    return la <= lb ? ib.match([ia, la]) : ia.match([ib, lb]);
  } catch {
    return false;
  }
};

/** The regions a path crosses, in order (deduplicated). */
export function pathRegions(root: ResidencyRoot, path: { from: string; to: string; links: string[] }): string[] {
  const region = new Map(root.sites.map((s) => [s.id, s.region]));
  const sites = [path.from, ...pathRelays(root, path), path.to];
  return [...new Set(sites.map((s) => region.get(s) ?? UNKNOWN_REGION))];
}

/** The rules binding traffic of `cls` towards site `to`. */
export function rulesFor(root: ResidencyRoot, to: string, cls: string): ResidencyRule[] {
  const prefixes = root.sites.find((s) => s.id === to)?.prefixes ?? [];
  return root.policy.residency.filter(
    (r) =>
      (r.classes.length === 0 || r.classes.includes(cls)) &&
      (r.dst_prefixes.length === 0 || r.dst_prefixes.some((p) => prefixes.some((q) => overlaps(p, q)))),
  );
}

/** The first rule a path breaks for (to, class) traffic, with the region it leaves them through; undefined: allowed. */
export function residencyViolation(
  root: ResidencyRoot,
  path: { from: string; to: string; links: string[] },
  cls: string,
): { rule: string; region: string } | undefined {
  const regions = pathRegions(root, path);
  for (const r of rulesFor(root, path.to, cls)) {
    const allowed = regionMatcher(r.regions);
    const out = regions.find((g) => !allowed(g));
    if (out !== undefined) return { rule: r.name, region: out };
  }
  return undefined;
}
