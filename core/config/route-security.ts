/**
 * Route security for candidate paths (`policy.route_security`): a path that relays through a site not in
 * `trusted_relays` (when the list is set), or crosses more than `max_hops` links (when set), is no candidate:
 * the TE model never routes over it, self-heal never fails over onto it. Excluded paths are reported
 * (`pathpilot config --check`), not silently dropped.
 */

/** The parts of the configuration route security reads (structural: schema.ts validates with it). */
interface PathConfig {
  id: string;
  from: string;
  to: string;
  links: string[];
}
interface RouteConfig<P extends PathConfig> {
  links: readonly { id: string; a: { site: string }; b: { site: string } }[];
  paths: readonly P[];
  policy: { route_security: { trusted_relays: readonly string[]; max_hops: number } };
}

export interface ExcludedPath {
  path: string;
  reason: string;
}

/** The sites a path passes through between its ends, in order (its relays). */
export function pathRelays(
  root: Pick<RouteConfig<PathConfig>, 'links'>,
  path: Pick<PathConfig, 'from' | 'to' | 'links'>,
): string[] {
  const links = new Map(root.links.map((l) => [l.id, l]));
  const relays: string[] = [];
  let at = path.from;
  for (const id of path.links) {
    const l = links.get(id);
    if (!l) break;
    at = l.a.site === at ? l.b.site : l.a.site;
    if (at !== path.to) relays.push(at);
  }
  return relays;
}

/** The paths route security allows as candidates, and the ones it excludes with why. */
export function candidatePaths<P extends PathConfig>(root: RouteConfig<P>): { allowed: P[]; excluded: ExcludedPath[] } {
  const { trusted_relays: trusted, max_hops: maxHops } = root.policy.route_security;
  const allowed: P[] = [];
  const excluded: ExcludedPath[] = [];
  for (const p of root.paths) {
    const untrusted = trusted.length ? pathRelays(root, p).filter((s) => !trusted.includes(s)) : [];
    if (untrusted.length) excluded.push({ path: p.id, reason: `relays through ${untrusted.join(', ')}, not a trusted relay` });
    else if (maxHops > 0 && p.links.length > maxHops)
      excluded.push({ path: p.id, reason: `${p.links.length} hops, more than max_hops ${maxHops}` });
    else allowed.push(p);
  }
  return { allowed, excluded };
}
