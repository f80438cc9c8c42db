import { Topology } from '../../core/config/index.ts';
import type { RootConfig } from '../../core/config/index.ts';
import { flowRecord, ifaceRecord, schemaHeader, schemaId } from '../../core/records/index.ts';
import { RecordBatch } from './batch.ts';
import type { FlowCollectorConfig } from './config.ts';
import { FlowDecoder } from './decode.ts';
import { Enricher } from './enrich.ts';
import type { LimitCounts } from './types.ts';

/** One Kafka message ready to publish: a MessagePack batch of records of one kind from one exporter. */
export interface SealedMessage {
  kind: 'flow' | 'iface';
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  records: number;
}

/** What one datagram produced, for counters. */
export interface IngestOutcome {
  flows: number;
  /** Flows whose sampling rate came from the configured default. */
  defaultRated: number;
  ifaces: number;
  errors: string[];
  /** Bounds on exporter-controlled state that acted (template limits, LRU evictions, pending budget). */
  limits: LimitCounts;
}

const flowSchema = schemaId(flowRecord);
const ifaceSchema = schemaId(ifaceRecord);

/**
 * Decode → enrich → batch, with no I/O: the collector runs one on its decoding thread, or one per
 * worker thread. Batches are per (kind, exporter) so each message is keyed by its exporter; records
 * are encoded into their batch as each datagram is decoded (batch.ts says why).
 */
export class FlowPipeline {
  readonly decoder: FlowDecoder;
  private readonly enricher: Enricher | undefined;
  private readonly flowBatches = new Map<string, RecordBatch>();
  private readonly ifaceBatches = new Map<string, RecordBatch>();
  private open = 0;
  private readonly max: number;
  private readonly flowTopic: string;
  private readonly ifaceTopic: string;

  constructor(
    config: FlowCollectorConfig,
    root: RootConfig | undefined,
    private readonly emit: (m: SealedMessage) => void,
  ) {
    const rates = config.sampling.exporters;
    const def = config.sampling.default;
    const t = config.templates;
    this.decoder = new FlowDecoder({
      pendingTtlMs: t.pending_ttl_ms,
      pendingLimit: t.pending_limit,
      pendingDomainBytes: t.pending_domain_bytes,
      pendingTotalBytes: t.pending_total_bytes,
      maxTemplateFields: t.max_fields,
      minBytesPerField: t.min_bytes_per_field,
      maxTemplatesPerDomain: t.max_per_domain,
      maxTotalFields: t.max_total_fields,
      templateTtlMs: t.ttl_ms,
      maxFlowsPerDatagram: t.max_flows_per_datagram,
      defaultSamplingRate: (exporter) => rates[exporter] ?? def,
    });
    this.enricher = root && config.enrich ? new Enricher(new Topology(root)) : undefined;
    this.max = config.batch.max_records;
    this.flowTopic = config.topics.flow ?? flowRecord.topic;
    this.ifaceTopic = config.topics.iface ?? ifaceRecord.topic;
  }

  /** Records decoded but not yet sealed into a message. */
  openRecords(): number {
    return this.open;
  }

  /**
   * Decodes one datagram and batches its records. `admit(n)` asks the caller whether n more
   * records fit in its buffer; refused records are the caller's to count as dropped.
   */
  ingest(buf: Buffer, exporter: string, receivedAt: number, admit: (n: number) => boolean): IngestOutcome {
    const r = this.decoder.decode(buf, { exporter, receivedAt });
    const e = this.enricher;
    if (r.flows.length > 0 && admit(r.flows.length)) {
      if (e) for (const f of r.flows) e.flow(f);
      this.addAll(this.flowBatches, 'flow', r.flows, (f) => f.exporter);
    }
    if (r.ifaces.length > 0 && admit(r.ifaces.length)) {
      if (e) for (const i of r.ifaces) e.iface(i);
      this.addAll(this.ifaceBatches, 'iface', r.ifaces, (i) => i.router);
    }
    return { flows: r.flows.length, ifaces: r.ifaces.length, errors: r.errors, defaultRated: r.defaultRated, limits: r.limits };
  }

  /** Appends records to their key's batch, in order; a datagram's records usually share one key. */
  private addAll<T extends object>(map: Map<string, RecordBatch>, kind: 'flow' | 'iface', records: T[], keyOf: (r: T) => string) {
    let i = 0;
    while (i < records.length) {
      const key = keyOf(records[i]!);
      let j = i + 1;
      while (j < records.length && keyOf(records[j]!) === key) j++;
      this.append(map, kind, key, i === 0 && j === records.length ? records : records.slice(i, j));
      i = j;
    }
  }

  private append(map: Map<string, RecordBatch>, kind: 'flow' | 'iface', key: string, records: object[]): void {
    let offset = 0;
    while (offset < records.length) {
      let batch = map.get(key);
      if (!batch) {
        batch = new RecordBatch();
        map.set(key, batch);
      }
      const n = Math.min(records.length - offset, this.max - batch.count);
      batch.append(offset === 0 && n === records.length ? records : records.slice(offset, offset + n));
      this.open += n;
      offset += n;
      if (batch.count >= this.max) {
        map.delete(key);
        this.seal(kind, key, batch);
      }
    }
  }

  private seal(kind: 'flow' | 'iface', key: string, batch: RecordBatch): void {
    this.open -= batch.count;
    this.emit({
      kind,
      topic: kind === 'flow' ? this.flowTopic : this.ifaceTopic,
      key,
      value: batch.seal(),
      headers: { [schemaHeader]: kind === 'flow' ? flowSchema : ifaceSchema },
      records: batch.count,
    });
  }

  /** Seals every open batch (linger timer, shutdown). */
  flush(): void {
    for (const [key, batch] of this.flowBatches) this.seal('flow', key, batch);
    this.flowBatches.clear();
    for (const [key, batch] of this.ifaceBatches) this.seal('iface', key, batch);
    this.ifaceBatches.clear();
  }

  /** Drops data sets that waited too long for their template; returns how many. */
  expire(now: number): number {
    return this.decoder.templates.expirePending(now);
  }

  /** Forgets templates past their TTL (unused, not refreshed); returns how many. */
  expireTemplates(now: number): number {
    return this.decoder.templates.expireTemplates(now);
  }
}
