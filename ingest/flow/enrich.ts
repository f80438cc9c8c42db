import type { Topology } from '../../core/config/index.ts';
import type { FlowRecord, IfaceRecord } from '../../core/records/index.ts';

/**
 * Enrichment from the topology: exporter → site, (site, output ifIndex) → link, destination
 * address → destination site, DSCP → traffic class. Lookups are cached per exporter and interface.
 */
export class Enricher {
  private readonly siteCache = new Map<string, string | null>();
  private readonly linkCache = new Map<string, string | null>();
  /** IPv4 site prefixes, longest first (the same longest-prefix match as Topology.siteForAddress). */
  private readonly v4: { network: number; mask: number; site: string }[] = [];

  constructor(private readonly topology: Topology) {
    const list: { network: number; mask: number; length: number; site: string }[] = [];
    for (const s of topology.config.sites) {
      for (const p of s.prefixes) {
        const [addr, len] = p.split('/');
        const network = parseV4(addr!);
        if (network < 0) continue;
        const length = Number(len);
        const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
        list.push({ network: (network & mask) >>> 0, mask, length, site: s.id });
      }
    }
    list.sort((a, b) => b.length - a.length);
    for (const { network, mask, site } of list) this.v4.push({ network, mask, site });
  }

  /** Site owning an address (IPv4 by our prefix table; IPv6 through the topology). */
  siteForAddress(addr: string): string | undefined {
    const n = parseV4(addr);
    if (n < 0) return addr.includes(':') ? this.topology.siteForAddress(addr) : undefined;
    for (const p of this.v4) if ((n & p.mask) >>> 0 === p.network) return p.site;
    return undefined;
  }

  site(exporter: string): string | undefined {
    let s = this.siteCache.get(exporter);
    if (s === undefined) {
      s = this.topology.siteForExporter(exporter) ?? null;
      if (this.siteCache.size > 100_000) this.siteCache.clear();
      this.siteCache.set(exporter, s);
    }
    return s ?? undefined;
  }

  link(site: string, ifIndex: number): string | undefined {
    const key = `${site}|${ifIndex}`;
    let l = this.linkCache.get(key);
    if (l === undefined) {
      l = this.topology.linkForInterface(site, ifIndex) ?? null;
      if (this.linkCache.size > 100_000) this.linkCache.clear();
      this.linkCache.set(key, l);
    }
    return l ?? undefined;
  }

  flow(r: FlowRecord): void {
    const site = this.site(r.exporter);
    if (site !== undefined) {
      r.site = site;
      if (r.out_if !== undefined) {
        const link = this.link(site, r.out_if);
        if (link !== undefined) r.link = link;
      }
    }
    const dstSite = this.siteForAddress(r.dst_addr);
    if (dstSite !== undefined) r.dst_site = dstSite;
    r.class = this.topology.classForDscp(r.dscp ?? 0);
  }

  iface(r: IfaceRecord): void {
    const site = this.site(r.router);
    if (site === undefined) return;
    r.router = site;
    if (r.if_index !== undefined) {
      const link = this.link(site, r.if_index);
      if (link !== undefined) {
        r.link = link;
        const end = this.topology.linkEnd(link, site);
        if (end) r.interface = end.interface;
      }
    }
  }
}

/** Dotted quad → unsigned 32-bit number, or -1 (a char loop: no regex or split on the hot path). */
export function parseV4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      if (++dots > 3) return -1;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return n * 256 + part;
}
