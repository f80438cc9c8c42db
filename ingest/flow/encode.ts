import type { FlowRecord } from '../../core/records/index.ts';
import { isIpv4, writeIpv4, writeIpv6 } from './addr.ts';

/**
 * NetFlow v9 and IPFIX encoders: flow records → template and data datagrams. The lab's twin uses
 * them to emit real exports and the benchmarks to feed the collector; `decode` reads them back.
 *
 * Layout: one data template per address family (IPv4 id 256, IPv6 id 257). When a fixed
 * `samplingRate` is given, it is announced in option data (v9 options template / IPFIX options
 * template id 258, scope System / observationDomainId, samplingInterval + samplingAlgorithm) and the
 * records omit it; otherwise every record carries its own `sampling_rate` as samplingInterval (IE 34).
 */

export type ExportFormat = 'netflow9' | 'ipfix';

export interface FlowEncoderOptions {
  format: ExportFormat;
  /** v9 source id / IPFIX observation domain id. */
  domainId?: number;
  /** Records per datagram (data records only). @defaultValue 20 */
  recordsPerDatagram?: number;
  /** Send templates in the first datagram and then every N datagrams. @defaultValue 20 */
  templateEvery?: number;
  /** Announce one sampling rate through option data instead of per-record fields. */
  samplingRate?: number;
  /** Exporter boot time, epoch ms (v9 times are relative to it). @defaultValue construction time - 1 h */
  bootTimeMs?: number;
}

interface Field {
  id: number;
  length: number;
}

const V4 = 256;
const V6 = 257;
const OPT = 258;

function fieldsFor(format: ExportFormat, v6: boolean, inlineRate: boolean): Field[] {
  const a = v6 ? 16 : 4;
  const fields: Field[] = [
    { id: v6 ? 27 : 8, length: a },
    { id: v6 ? 28 : 12, length: a },
    { id: v6 ? 62 : 15, length: a },
    { id: 7, length: 2 },
    { id: 11, length: 2 },
    { id: 4, length: 1 },
    { id: 6, length: 1 },
    { id: 5, length: 1 },
    { id: 10, length: 4 },
    { id: 14, length: 4 },
    { id: 16, length: 4 },
    { id: 17, length: 4 },
    { id: 1, length: 8 },
    { id: 2, length: 8 },
  ];
  if (inlineRate) fields.push({ id: 34, length: 4 });
  if (format === 'netflow9') fields.push({ id: 22, length: 4 }, { id: 21, length: 4 });
  else fields.push({ id: 152, length: 8 }, { id: 153, length: 8 });
  return fields;
}

const recordLength = (fields: Field[]) => fields.reduce((n, f) => n + f.length, 0);

/** A stateful exporter: keeps the sequence number and the template refresh schedule. */
export class FlowEncoder {
  readonly format: ExportFormat;
  readonly domainId: number;
  readonly recordsPerDatagram: number;
  readonly templateEvery: number;
  readonly samplingRate: number | undefined;
  readonly bootTimeMs: number;
  private sequence = 0;
  private datagrams = 0;
  private readonly fields4: Field[];
  private readonly fields6: Field[];

  constructor(options: FlowEncoderOptions) {
    this.format = options.format;
    this.domainId = options.domainId ?? 0;
    this.recordsPerDatagram = options.recordsPerDatagram ?? 20;
    this.templateEvery = options.templateEvery ?? 20;
    this.samplingRate = options.samplingRate;
    this.bootTimeMs = options.bootTimeMs ?? Date.now() - 3_600_000;
    if (!(this.recordsPerDatagram >= 1 && this.recordsPerDatagram <= 400)) {
      throw new RangeError('recordsPerDatagram must be within 1..400');
    }
    const inline = this.samplingRate === undefined;
    this.fields4 = fieldsFor(this.format, false, inline);
    this.fields6 = fieldsFor(this.format, true, inline);
  }

  /** Template datagram alone (what an exporter sends on refresh). */
  templates(exportTimeMs: number): Buffer {
    return this.datagram([], exportTimeMs, true);
  }

  /** Encodes records into datagrams of at most `recordsPerDatagram` records each. */
  encode(records: readonly FlowRecord[], exportTimeMs: number = Date.now()): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < records.length; i += this.recordsPerDatagram) {
      const chunk = records.slice(i, i + this.recordsPerDatagram);
      const withTemplates = this.datagrams % this.templateEvery === 0;
      out.push(this.datagram(chunk, exportTimeMs, withTemplates));
    }
    return out;
  }

  private datagram(records: readonly FlowRecord[], exportTimeMs: number, withTemplates: boolean): Buffer {
    const ipfix = this.format === 'ipfix';
    const v4 = records.filter((r) => !r.src_addr.includes(':') && !r.dst_addr.includes(':'));
    const v6 = records.filter((r) => r.src_addr.includes(':') || r.dst_addr.includes(':'));
    const parts: Buffer[] = [];
    if (withTemplates) {
      parts.push(this.templateSet(V4, this.fields4), this.templateSet(V6, this.fields6));
      if (this.samplingRate !== undefined) parts.push(this.optionTemplateSet(), this.optionDataSet(this.samplingRate));
    }
    if (v4.length > 0) parts.push(this.dataSet(V4, this.fields4, v4, exportTimeMs));
    if (v6.length > 0) parts.push(this.dataSet(V6, this.fields6, v6, exportTimeMs));
    const headerLen = ipfix ? 16 : 20;
    const body = Buffer.concat(parts);
    const h = Buffer.alloc(headerLen);
    const secs = Math.floor(exportTimeMs / 1000) >>> 0;
    if (ipfix) {
      h.writeUInt16BE(10, 0);
      h.writeUInt16BE(headerLen + body.length, 2);
      h.writeUInt32BE(secs, 4);
      h.writeUInt32BE(this.sequence >>> 0, 8);
      h.writeUInt32BE(this.domainId >>> 0, 12);
      this.sequence += records.length; // IPFIX: data records sent before this message
    } else {
      h.writeUInt16BE(9, 0);
      const count = records.length + (withTemplates ? 2 + (this.samplingRate !== undefined ? 2 : 0) : 0);
      h.writeUInt16BE(count, 2);
      // Uptime relative to the whole second in the header, so collectors recover times exactly.
      h.writeUInt32BE(this.uptime(secs * 1000), 4);
      h.writeUInt32BE(secs, 8);
      h.writeUInt32BE(this.sequence >>> 0, 12);
      h.writeUInt32BE(this.domainId >>> 0, 16);
      this.sequence += 1; // v9: export packets sent
    }
    this.datagrams++;
    return Buffer.concat([h, body]);
  }

  private uptime(ms: number): number {
    return Math.max(0, ms - this.bootTimeMs) >>> 0;
  }

  private templateSet(id: number, fields: Field[]): Buffer {
    const b = Buffer.alloc(8 + 4 * fields.length);
    b.writeUInt16BE(this.format === 'ipfix' ? 2 : 0, 0);
    b.writeUInt16BE(b.length, 2);
    b.writeUInt16BE(id, 4);
    b.writeUInt16BE(fields.length, 6);
    fields.forEach((f, i) => {
      b.writeUInt16BE(f.id, 8 + 4 * i);
      b.writeUInt16BE(f.length, 10 + 4 * i);
    });
    return b;
  }

  private optionTemplateSet(): Buffer {
    if (this.format === 'ipfix') {
      // Set 3: template id, field count 3, scope count 1: observationDomainId(149), samplingInterval(34), samplingAlgorithm(35).
      const b = Buffer.alloc(4 + 6 + 12);
      b.writeUInt16BE(3, 0);
      b.writeUInt16BE(b.length, 2);
      b.writeUInt16BE(OPT, 4);
      b.writeUInt16BE(3, 6);
      b.writeUInt16BE(1, 8);
      [149, 4, 34, 4, 35, 1].forEach((v, i) => b.writeUInt16BE(v, 10 + 2 * i));
      return b;
    }
    // Flowset 1: template id, scope length 4, option length 8: System(1)/4, SAMPLING_INTERVAL(34)/4, SAMPLING_ALGORITHM(35)/1.
    const b = Buffer.alloc(4 + 6 + 12 + 2);
    b.writeUInt16BE(1, 0);
    b.writeUInt16BE(b.length, 2);
    b.writeUInt16BE(OPT, 4);
    b.writeUInt16BE(4, 6);
    b.writeUInt16BE(8, 8);
    [1, 4, 34, 4, 35, 1].forEach((v, i) => b.writeUInt16BE(v, 10 + 2 * i));
    return b;
  }

  private optionDataSet(rate: number): Buffer {
    const len = 4 + 9;
    const padded = this.format === 'netflow9' ? (len + 3) & ~3 : len;
    const b = Buffer.alloc(padded);
    b.writeUInt16BE(OPT, 0);
    b.writeUInt16BE(padded, 2);
    b.writeUInt32BE(this.format === 'ipfix' ? this.domainId >>> 0 : 0, 4);
    b.writeUInt32BE(rate >>> 0, 8);
    b[12] = 2; // random n-out-of-N
    return b;
  }

  private dataSet(id: number, fields: Field[], records: readonly FlowRecord[], exportTimeMs: number): Buffer {
    const recLen = recordLength(fields);
    const len = 4 + recLen * records.length;
    const padded = this.format === 'netflow9' ? (len + 3) & ~3 : len;
    const b = Buffer.alloc(padded);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(padded, 2);
    let o = 4;
    for (const r of records) {
      for (const f of fields) {
        writeField(b, o, f, r, this, exportTimeMs);
        o += f.length;
      }
    }
    return b;
  }
}

function writeAddr(b: Buffer, o: number, len: number, addr: string | undefined): void {
  if (!addr) return;
  if (len === 4) {
    if (isIpv4(addr)) writeIpv4(b, o, addr);
  } else if (addr.includes(':')) writeIpv6(b, o, addr);
  else if (isIpv4(addr)) {
    b.writeUInt16BE(0xffff, o + 10);
    writeIpv4(b, o + 12, addr);
  }
}

function writeU64(b: Buffer, o: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  b.writeUInt32BE(hi >>> 0, o);
  b.writeUInt32BE(v - hi * 4294967296, o + 4);
}

function writeField(b: Buffer, o: number, f: Field, r: FlowRecord, enc: FlowEncoder, exportTimeMs: number): void {
  switch (f.id) {
    case 8:
    case 27:
      return writeAddr(b, o, f.length, r.src_addr);
    case 12:
    case 28:
      return writeAddr(b, o, f.length, r.dst_addr);
    case 15:
    case 62:
      return writeAddr(b, o, f.length, r.next_hop);
    case 7:
      b.writeUInt16BE(r.src_port ?? 0, o);
      return;
    case 11:
      b.writeUInt16BE(r.dst_port ?? 0, o);
      return;
    case 4:
      b[o] = r.protocol;
      return;
    case 6:
      b[o] = r.tcp_flags ?? 0;
      return;
    case 5:
      b[o] = ((r.dscp ?? 0) << 2) & 0xff;
      return;
    case 10:
      b.writeUInt32BE((r.in_if ?? 0) >>> 0, o);
      return;
    case 14:
      b.writeUInt32BE((r.out_if ?? 0) >>> 0, o);
      return;
    case 16:
      b.writeUInt32BE((r.src_as ?? 0) >>> 0, o);
      return;
    case 17:
      b.writeUInt32BE((r.dst_as ?? 0) >>> 0, o);
      return;
    case 1:
      return writeU64(b, o, r.bytes);
    case 2:
      return writeU64(b, o, r.packets);
    case 34:
      b.writeUInt32BE(r.sampling_rate >>> 0, o);
      return;
    case 22:
      b.writeUInt32BE(Math.max(0, (r.flow_start ?? exportTimeMs) - enc.bootTimeMs) >>> 0, o);
      return;
    case 21:
      b.writeUInt32BE(Math.max(0, (r.flow_end ?? exportTimeMs) - enc.bootTimeMs) >>> 0, o);
      return;
    case 152:
      return writeU64(b, o, r.flow_start ?? exportTimeMs);
    case 153:
      return writeU64(b, o, r.flow_end ?? exportTimeMs);
    default:
      return;
  }
}
