import type { Topology } from '../../core/config/index.ts';
import type { FlowRecord, IfaceRecord } from '../../core/records/index.ts';

/**
 * Enrichment from the topology: exporter → site, (site, output ifIndex) → link, destination
 * address → destination site, DSCP → traffic class. Lookups are cached per exporter and interface.
 */
export class Enricher {
  private readonly siteCache = new Map<string, string | null>();
  private readonly linkCache = new Map<string, string | null>();

  constructor(private readonly topology: Topology) {}

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
    const dstSite = this.topology.siteForAddress(r.dst_addr);
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
