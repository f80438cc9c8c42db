/**
 * Template state for NetFlow v9 and IPFIX: templates and option templates per (exporter, format,
 * observation domain), compiled once into decode plans; sampling rates learned from option data;
 * data sets that arrived before their template (buffered briefly, then counted as `template_missing`).
 *
 * Every structure an exporter can grow is bounded (see `TemplateLimits` and docs/notes/ingest.md):
 * fields per template, record length against field count, templates per domain (LRU, TTL refreshed on
 * use), fields held across all templates, and the data sets and bytes waiting for a template. Each
 * time a bound acts it is counted under a `LimitReason`, so the collector can export and log it.
 */

import { countLimit, type LimitCounts } from './types.ts';

export interface TemplateField {
  /** Information element id; enterprise-specific elements keep their id but are never interpreted. */
  id: number;
  /** Field length in bytes; 65535 = variable length (RFC 7011 §7). */
  length: number;
  /** Private enterprise number, 0 for IANA elements. */
  enterprise: number;
}

/** Field length meaning "variable": the record carries a 1- or 3-byte length prefix (RFC 7011 §7). */
export const VARIABLE_LENGTH = 65535;

/**
 * A template compiled into the steps a record decode takes. Zero-length fields are gone, and runs of
 * fixed-length fields the decoder does not read are merged into one skip, so a record costs at most
 * one step per byte it occupies whatever the template claims.
 */
export interface Template {
  id: number;
  /** Number of leading scope fields (option templates), 0 for data templates. */
  scopeCount: number;
  /** Per step: the IANA element to read, or 0 to skip `lengths[i]` bytes. */
  codes: Uint16Array;
  /** Per step: byte length, or VARIABLE_LENGTH. */
  lengths: Uint16Array;
  /** Fields the exporter declared (limits and metrics count these, not steps). */
  fieldCount: number;
  /** Sum of fixed lengths; variable-length fields count their minimum (1 byte). */
  minLength: number;
  variable: boolean;
  /** Receive time of the datagram that last defined or used the template (TTL is measured from it). */
  lastUsed: number;
}

/** Elements `decodeDataSet` reads (1 = read); every other element is skipped by length. */
const READ_ELEMENT = new Uint8Array(65_536);
for (const id of [
  1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 14, 15, 16, 17, 18, 21, 22, 27, 28, 34, 48, 50, 62, 63, 85, 86, 150, 151, 152, 153, 154, 155,
  156, 157, 158, 159, 160, 195, 231, 298, 302, 305, 306, 309, 310, 311,
])
  READ_ELEMENT[id] = 1;

/**
 * Builds a template's plan field by field as the template set is parsed (no per-field objects: a
 * template datagram of 16k fields costs 16k array writes).
 */
export class PlanBuilder {
  private readonly codes: Uint16Array;
  private readonly lengths: Uint16Array;
  private steps = 0;
  private minLength = 0;
  private variable = false;

  constructor(private readonly fieldCount: number) {
    this.codes = new Uint16Array(fieldCount);
    this.lengths = new Uint16Array(fieldCount);
  }

  add(id: number, length: number, enterprise: number): void {
    if (length === 0) return;
    const code = enterprise === 0 && READ_ELEMENT[id] === 1 ? id : 0;
    const codes = this.codes;
    const lengths = this.lengths;
    if (length === VARIABLE_LENGTH) {
      this.variable = true;
      this.minLength += 1;
      codes[this.steps] = code;
      lengths[this.steps++] = VARIABLE_LENGTH;
      return;
    }
    this.minLength += length;
    const last = this.steps - 1;
    // Merge into the previous skip while the sum stays a fixed length (below the variable marker).
    if (
      code === 0 &&
      last >= 0 &&
      codes[last] === 0 &&
      lengths[last] !== VARIABLE_LENGTH &&
      lengths[last]! + length < VARIABLE_LENGTH
    ) {
      lengths[last] = lengths[last]! + length;
      return;
    }
    codes[this.steps] = code;
    lengths[this.steps++] = length;
  }

  build(id: number, scopeCount: number, at: number): Template {
    return {
      id,
      scopeCount,
      codes: this.codes.slice(0, this.steps),
      lengths: this.lengths.slice(0, this.steps),
      fieldCount: this.fieldCount,
      minLength: this.minLength,
      variable: this.variable,
      lastUsed: at,
    };
  }
}

export function compileTemplate(id: number, fields: readonly TemplateField[], scopeCount: number, at = 0): Template {
  const plan = new PlanBuilder(fields.length);
  for (const f of fields) plan.add(f.id, f.length, f.enterprise);
  return plan.build(id, scopeCount, at);
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
  /** Templates by id, least recently used first (a use moves a template to the end). */
  templates: Map<number, Template>;
  /** Sampling rate by sampler/selector id (option data with a sampler scope). */
  samplerRates: Map<number, number>;
  /** The rate of the sampler announced last: records without a sampler id fall back to it (as pmacct does). */
  lastSamplerRate?: number;
  /** Domain-wide rate (option data without a sampler id). */
  domainRate?: number;
  /** systemInitTimeMilliseconds from option data (IPFIX uptime-relative times). */
  systemInitMs?: number;
  pending: PendingSet[];
  pendingBytes: number;
}

/** Bounds no real exporter reaches; see docs/notes/ingest.md for the figures behind them. */
export interface TemplateLimits {
  /** Most fields one template may declare. Real templates carry 5–100 (41 in the 92 captures). */
  maxTemplateFields?: number;
  /**
   * Least record bytes per declared field. Real templates have ≥ 1 byte per field (zero-length
   * fields are rare padding); a template of thousands of empty fields is refused.
   */
  minBytesPerField?: number;
  /** Templates kept per (exporter, domain); the least recently used is evicted beyond it. */
  maxTemplatesPerDomain?: number;
  /** Declared fields kept across all templates of all domains (the memory bound of the cache). */
  maxTotalFields?: number;
  /** A template unused (not refreshed, no data) for this long is forgotten, ms. */
  templateTtlMs?: number;
  /** Bytes of data sets waiting for their template in one domain. */
  pendingDomainBytes?: number;
  /** Bytes of data sets waiting for their template across all domains. */
  pendingTotalBytes?: number;
  /**
   * Flows one datagram may yield (8,192: 8 bytes per flow in 64 KB; real records are ≥ 16 bytes, so a
   * 64 KB jumbo export holds ≤ 4,096). Beyond it the rest of the data set is dropped and counted.
   */
  maxFlowsPerDatagram?: number;
}

export interface TemplateCacheOptions extends TemplateLimits {
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
  readonly maxTemplateFields: number;
  readonly minBytesPerField: number;
  readonly maxTemplatesPerDomain: number;
  readonly maxTotalFields: number;
  readonly templateTtlMs: number;
  readonly pendingDomainBytes: number;
  readonly pendingTotalBytes: number;
  readonly maxFlowsPerDatagram: number;
  private readonly domains = new Map<string, DomainState>();
  /** Every template of every domain, least recently used first: global eviction and TTL sweeps read its head. */
  private readonly lru = new Map<Template, DomainState>();
  private totalFields = 0;
  private totalPendingBytes = 0;
  private totalPendingSets = 0;

  constructor(options: TemplateCacheOptions = {}) {
    this.pendingTtlMs = options.pendingTtlMs ?? 10_000;
    this.pendingLimit = options.pendingLimit ?? 256;
    this.maxDomains = options.maxDomains ?? 10_000;
    this.maxTemplateFields = options.maxTemplateFields ?? 512;
    this.minBytesPerField = options.minBytesPerField ?? 0.5;
    this.maxTemplatesPerDomain = options.maxTemplatesPerDomain ?? 256;
    this.maxTotalFields = options.maxTotalFields ?? 1_000_000;
    this.templateTtlMs = options.templateTtlMs ?? 3_600_000;
    this.pendingDomainBytes = options.pendingDomainBytes ?? 1024 * 1024;
    this.pendingTotalBytes = options.pendingTotalBytes ?? 16 * 1024 * 1024;
    this.maxFlowsPerDatagram = options.maxFlowsPerDatagram ?? 8192;
  }

  domain(exporter: string, format: string, domain: number): DomainState {
    const key = `${exporter}|${format}|${domain}`;
    let d = this.domains.get(key);
    if (!d) {
      if (this.domains.size >= this.maxDomains) {
        const oldest = this.domains.entries().next().value;
        if (oldest !== undefined) {
          this.domains.delete(oldest[0]);
          this.forgetDomain(oldest[1]);
        }
      }
      d = { templates: new Map(), samplerRates: new Map(), pending: [], pendingBytes: 0 };
      this.domains.set(key, d);
    }
    return d;
  }

  /** The template `id` of a domain, refreshed as used at `now`; undefined when unknown or expired. */
  use(state: DomainState, id: number, now: number, limits: LimitCounts): Template | undefined {
    const t = state.templates.get(id);
    if (!t) return undefined;
    if (now - t.lastUsed > this.templateTtlMs) {
      this.remove(state, t);
      countLimit(limits, 'template_ttl');
      return undefined;
    }
    if (now > t.lastUsed) t.lastUsed = now;
    this.touch(state, t);
    return t;
  }

  /** Adds or replaces a template, evicting least recently used ones beyond the per-domain and global bounds. */
  put(state: DomainState, template: Template, limits: LimitCounts): void {
    const old = state.templates.get(template.id);
    if (old) this.remove(state, old);
    while (state.templates.size >= this.maxTemplatesPerDomain) {
      const oldest = state.templates.values().next().value;
      if (!oldest) break;
      this.remove(state, oldest);
      countLimit(limits, 'templates_per_domain');
    }
    while (this.totalFields + template.fieldCount > this.maxTotalFields && this.lru.size > 0) {
      const [oldest, owner] = this.lru.entries().next().value!;
      this.remove(owner, oldest);
      countLimit(limits, 'template_fields_total');
    }
    state.templates.set(template.id, template);
    this.lru.set(template, state);
    this.totalFields += template.fieldCount;
  }

  /** Withdraws templates of a domain (IPFIX withdrawal): all that `match`. */
  withdraw(state: DomainState, match: (t: Template) => boolean): void {
    for (const t of [...state.templates.values()]) if (match(t)) this.remove(state, t);
  }

  /** Whether a data set of `bytes` may wait for its template; counts the bound that refused it. */
  admitPending(state: DomainState, bytes: number, limits: LimitCounts): boolean {
    if (state.pendingBytes + bytes > this.pendingDomainBytes || this.totalPendingBytes + bytes > this.pendingTotalBytes) {
      countLimit(limits, 'pending_bytes');
      return false;
    }
    return true;
  }

  addPending(state: DomainState, p: PendingSet): void {
    state.pending.push(p);
    state.pendingBytes += p.data.length;
    this.totalPendingBytes += p.data.length;
    this.totalPendingSets++;
  }

  /** Removes pending sets of a domain that do not satisfy `keep`; returns those removed. */
  dropPending(state: DomainState, drop: (p: PendingSet) => boolean): PendingSet[] {
    if (state.pending.length === 0) return [];
    const removed: PendingSet[] = [];
    const kept: PendingSet[] = [];
    for (const p of state.pending) (drop(p) ? removed : kept).push(p);
    if (removed.length === 0) return removed;
    state.pending = kept;
    for (const p of removed) {
      state.pendingBytes -= p.data.length;
      this.totalPendingBytes -= p.data.length;
      this.totalPendingSets--;
    }
    return removed;
  }

  /** The sampling rate option data announced for a domain (no sampler id), if any. */
  domainSamplingRate(exporter: string, format: string, domain: number): number | undefined {
    return this.domains.get(`${exporter}|${format}|${domain}`)?.domainRate;
  }

  /** Number of templates known (all domains), for metrics. */
  templateCount(): number {
    return this.lru.size;
  }

  /** Fields declared by all templates held (the quantity `maxTotalFields` bounds). */
  fieldCount(): number {
    return this.totalFields;
  }

  pendingCount(): number {
    return this.totalPendingSets;
  }

  pendingBytes(): number {
    return this.totalPendingBytes;
  }

  /** Drops pending sets older than the TTL everywhere; returns how many were dropped. */
  expirePending(now: number): number {
    let dropped = 0;
    for (const d of this.domains.values()) dropped += this.dropPending(d, (p) => now - p.at > this.pendingTtlMs).length;
    return dropped;
  }

  /** Forgets templates unused for longer than their TTL; returns how many. The LRU head holds the oldest. */
  expireTemplates(now: number): number {
    let expired = 0;
    for (const [t, owner] of this.lru) {
      if (now - t.lastUsed <= this.templateTtlMs) break;
      this.remove(owner, t);
      expired++;
    }
    return expired;
  }

  private touch(state: DomainState, t: Template): void {
    // Map insertion order is the recency order: move to the end.
    state.templates.delete(t.id);
    state.templates.set(t.id, t);
    this.lru.delete(t);
    this.lru.set(t, state);
  }

  private remove(state: DomainState, t: Template): void {
    if (state.templates.get(t.id) === t) state.templates.delete(t.id);
    if (this.lru.delete(t)) this.totalFields -= t.fieldCount;
  }

  private forgetDomain(state: DomainState): void {
    for (const t of state.templates.values()) this.remove(state, t);
    this.dropPending(state, () => true);
  }
}
