/**
 * Template state for NetFlow v9 and IPFIX: templates and option templates per (exporter, format,
 * observation domain), sampling rates learned from option data, and data sets that arrived before
 * their template (buffered briefly, then counted as `template_missing`).
 */

export interface TemplateField {
  /** Information element id; enterprise-specific elements keep their id but are never interpreted. */
  id: number;
  /** Field length in bytes; 65535 = variable length (RFC 7011 §7). */
  length: number;
  /** Private enterprise number, 0 for IANA elements. */
  enterprise: number;
}

export interface Template {
  id: number;
  fields: TemplateField[];
  /** Number of leading scope fields (option templates), 0 for data templates. */
  scopeCount: number;
  /** Sum of fixed lengths; variable-length fields count their minimum (1 byte). */
  minLength: number;
  variable: boolean;
}

export interface PendingSet {
  templateId: number;
  data: Buffer;
  /** Header values needed to decode later. */
  header: SetHeader;
  exporter: string;
  receivedAt: number;
  at: number;
}

export interface SetHeader {
  format: 'netflow9' | 'ipfix';
  domain: number;
  sequence: number;
  /** v9: sysUptime (ms) at export; IPFIX: undefined. */
  sysUptime?: number;
  /** Export time, epoch ms. */
  exportMs: number;
}

export interface DomainState {
  templates: Map<number, Template>;
  /** Sampling rate by sampler/selector id (option data with a sampler scope). */
  samplerRates: Map<number, number>;
  /** Domain-wide rate (option data without a sampler id). */
  domainRate?: number;
  /** systemInitTimeMilliseconds from option data (IPFIX uptime-relative times). */
  systemInitMs?: number;
  pending: PendingSet[];
}

export interface TemplateCacheOptions {
  /** How long data waits for its template (ms of the datagrams' receive time). */
  pendingTtlMs?: number;
  /** Most data sets kept waiting per (exporter, domain). */
  pendingLimit?: number;
  /** Most (exporter, domain) entries tracked; the oldest is forgotten beyond it. */
  maxDomains?: number;
}

export class TemplateCache {
  readonly pendingTtlMs: number;
  readonly pendingLimit: number;
  readonly maxDomains: number;
  private readonly domains = new Map<string, DomainState>();

  constructor(options: TemplateCacheOptions = {}) {
    this.pendingTtlMs = options.pendingTtlMs ?? 10_000;
    this.pendingLimit = options.pendingLimit ?? 256;
    this.maxDomains = options.maxDomains ?? 10_000;
  }

  domain(exporter: string, format: string, domain: number): DomainState {
    const key = `${exporter}|${format}|${domain}`;
    let d = this.domains.get(key);
    if (!d) {
      if (this.domains.size >= this.maxDomains) {
        const oldest = this.domains.keys().next().value;
        if (oldest !== undefined) this.domains.delete(oldest);
      }
      d = { templates: new Map(), samplerRates: new Map(), pending: [] };
      this.domains.set(key, d);
    }
    return d;
  }

  /** The sampling rate option data announced for a domain (no sampler id), if any. */
  domainSamplingRate(exporter: string, format: string, domain: number): number | undefined {
    return this.domains.get(`${exporter}|${format}|${domain}`)?.domainRate;
  }

  /** Number of templates known (all domains), for metrics. */
  templateCount(): number {
    let n = 0;
    for (const d of this.domains.values()) n += d.templates.size;
    return n;
  }

  pendingCount(): number {
    let n = 0;
    for (const d of this.domains.values()) n += d.pending.length;
    return n;
  }

  /** Drops pending sets older than the TTL everywhere; returns how many were dropped. */
  expirePending(now: number): number {
    let dropped = 0;
    for (const d of this.domains.values()) {
      if (d.pending.length === 0) continue;
      const keep = d.pending.filter((p) => now - p.at <= this.pendingTtlMs);
      dropped += d.pending.length - keep.length;
      d.pending = keep;
    }
    return dropped;
  }
}

export function compileTemplate(id: number, fields: TemplateField[], scopeCount: number): Template {
  let minLength = 0;
  let variable = false;
  for (const f of fields) {
    if (f.length === 65535) {
      variable = true;
      minLength += 1;
    } else minLength += f.length;
  }
  return { id, fields, scopeCount, minLength, variable };
}
