import type { RootConfig, SiteConfig, LinkConfig, PathConfig, ClassConfig } from './schema.ts';
import { candidatePaths, type ExcludedPath } from './route-security.ts';

/** Parses an IPv4 dotted quad into an unsigned 32-bit number, or undefined. */
export function ipv4ToNumber(addr: string): number | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

interface V4Prefix {
  network: number;
  mask: number;
  length: number;
  site: string;
}

/**
 * Read-only indexes over the topology that every part needs: sites, links, paths per ordered pair,
 * class by DSCP, prefix → site (longest match) and exporter + ifIndex → link.
 */
export class Topology {
  readonly sites = new Map<string, SiteConfig>();
  readonly links = new Map<string, LinkConfig>();
  readonly paths = new Map<string, PathConfig>();
  readonly classes = new Map<string, ClassConfig>();
  private readonly pathsByPair = new Map<string, PathConfig[]>();
  /** Paths route security keeps out of the candidates, with why (`policy.route_security`). */
  readonly excludedPaths: readonly ExcludedPath[];
  private readonly classByDscp = new Map<number, string>();
  private readonly defaultClass: string;
  private readonly v4Prefixes: V4Prefix[] = [];
  private readonly siteByExporter = new Map<string, string>();
  private readonly linkByInterface = new Map<string, string>();

  constructor(readonly config: RootConfig) {
    for (const s of config.sites) {
      this.sites.set(s.id, s);
      if (s.router.exporter_address) this.siteByExporter.set(s.router.exporter_address, s.id);
      for (const p of s.prefixes) {
        const [addr, len] = p.split('/');
        const network = ipv4ToNumber(addr!);
        if (network === undefined) continue;
        const length = Number(len);
        const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
        this.v4Prefixes.push({ network: (network & mask) >>> 0, mask, length, site: s.id });
      }
    }
    this.v4Prefixes.sort((a, b) => b.length - a.length);
    for (const l of config.links) {
      this.links.set(l.id, l);
      for (const end of [l.a, l.b]) {
        this.linkByInterface.set(`${end.site}|${end.interface}`, l.id);
        if (end.if_index !== undefined) this.linkByInterface.set(`${end.site}|#${end.if_index}`, l.id);
      }
    }
    for (const p of config.paths) this.paths.set(p.id, p);
    // Candidates are what route security allows: the excluded stay known (probes name them), never chosen.
    const { allowed, excluded } = candidatePaths(config);
    this.excludedPaths = excluded;
    for (const p of allowed) {
      const key = pairKey(p.from, p.to);
      const list = this.pathsByPair.get(key) ?? [];
      list.push(p);
      list.sort((a, b) => a.priority - b.priority);
      this.pathsByPair.set(key, list);
    }
    for (const c of config.classes) {
      this.classes.set(c.id, c);
      for (const d of c.dscp) this.classByDscp.set(d, c.id);
    }
    // Traffic with an unmapped DSCP falls in the least important class.
    this.defaultClass = [...config.classes].sort((a, b) => b.priority - a.priority)[0]!.id;
  }

  site(id: string): SiteConfig {
    const s = this.sites.get(id);
    if (!s) throw new Error(`unknown site "${id}"`);
    return s;
  }

  link(id: string): LinkConfig {
    const l = this.links.get(id);
    if (!l) throw new Error(`unknown link "${id}"`);
    return l;
  }

  /** Candidate paths from `from` to `to`, primary first. */
  pathsFor(from: string, to: string): PathConfig[] {
    return this.pathsByPair.get(pairKey(from, to)) ?? [];
  }

  /** Ordered site pairs that have at least one path. */
  pairs(): [string, string][] {
    return [...this.pathsByPair.keys()].map((k) => k.split('>') as [string, string]);
  }

  classForDscp(dscp: number): string {
    return this.classByDscp.get(dscp) ?? this.defaultClass;
  }

  /** Longest-prefix match of an IPv4 address to a site; undefined when no site owns it. */
  siteForAddress(addr: string): string | undefined {
    const n = ipv4ToNumber(addr);
    if (n === undefined) return undefined;
    for (const p of this.v4Prefixes) if ((n & p.mask) >>> 0 === p.network) return p.site;
    return undefined;
  }

  siteForExporter(addr: string): string | undefined {
    return this.siteByExporter.get(addr);
  }

  /** Link leaving `site` through interface name or ifIndex. */
  linkForInterface(site: string, iface: string | number): string | undefined {
    return this.linkByInterface.get(typeof iface === 'number' ? `${site}|#${iface}` : `${site}|${iface}`);
  }

  /** The end of `link` that sits at `site`. */
  linkEnd(linkId: string, site: string) {
    const l = this.link(linkId);
    return l.a.site === site ? l.a : l.b.site === site ? l.b : undefined;
  }
}

export function pairKey(from: string, to: string): string {
  return `${from}>${to}`;
}
