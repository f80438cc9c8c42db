import type { FlowRecord } from '../../core/records/index.ts';
import { ipv4At, ipv6At } from './addr.ts';
import {
  PlanBuilder,
  VARIABLE_LENGTH,
  type DomainState,
  type SetHeader,
  type Template,
  type TemplateCache,
} from './templates.ts';
import { countLimit, DecodeFault, need, readUint, validTime, type DatagramMeta, type DecodeResult } from './types.ts';

/**
 * NetFlow v9 (RFC 3954) and IPFIX (RFC 7011): templates, option templates, template withdrawal,
 * variable-length fields, enterprise fields (skipped), sampling from option data, and data that
 * arrives before its template (buffered in the cache, decoded when the template comes).
 *
 * Templates are compiled once into decode plans (templates.ts), so a record costs one step per field
 * that occupies bytes; templates beyond the cache's limits are refused and counted, never stored.
 */

const NTP_EPOCH_OFFSET_S = 2_208_988_800;

export interface TemplatedOptions {
  cache: TemplateCache;
  /** Rate used when neither the record nor option data gives one. */
  defaultRate: number;
}

export function decodeNetflow9(buf: Buffer, meta: DatagramMeta, out: DecodeResult, opts: TemplatedOptions): void {
  need(buf, 0, 20, 'netflow v9 header');
  const sysUptime = buf.readUInt32BE(4);
  const unixSecs = buf.readUInt32BE(8);
  const header: SetHeader = {
    format: 'netflow9',
    sequence: buf.readUInt32BE(12),
    domain: buf.readUInt32BE(16),
    sysUptime,
    exportMs: unixSecs * 1000,
  };
  decodeSets(buf, 20, buf.length, meta, header, out, opts);
}

export function decodeIpfix(buf: Buffer, meta: DatagramMeta, out: DecodeResult, opts: TemplatedOptions): void {
  need(buf, 0, 16, 'ipfix header');
  const length = buf.readUInt16BE(2);
  if (length < 16) throw new DecodeFault('bad_header', `ipfix: message length ${length} below the 16-byte header`);
  if (length > buf.length) {
    throw new DecodeFault('truncated', `ipfix: message length ${length} exceeds the datagram (${buf.length} bytes)`);
  }
  const header: SetHeader = {
    format: 'ipfix',
    exportMs: buf.readUInt32BE(4) * 1000,
    sequence: buf.readUInt32BE(8),
    domain: buf.readUInt32BE(12),
  };
  decodeSets(buf, 16, length, meta, header, out, opts);
}

function decodeSets(
  buf: Buffer,
  start: number,
  end: number,
  meta: DatagramMeta,
  header: SetHeader,
  out: DecodeResult,
  opts: TemplatedOptions,
): void {
  const ipfix = header.format === 'ipfix';
  const state = opts.cache.domain(meta.exporter, header.format, header.domain);
  let off = start;
  while (off + 4 <= end) {
    const setId = buf.readUInt16BE(off);
    const setLen = buf.readUInt16BE(off + 2);
    if (setLen < 4) {
      // Zero padding after the last set (seen from PAN-OS) is not an error.
      if (isZero(buf, off, end)) return;
      throw new DecodeFault('bad_set', `${header.format}: set ${setId} at offset ${off} has length ${setLen}`);
    }
    if (off + setLen > end) {
      throw new DecodeFault('truncated', `${header.format}: set ${setId} at offset ${off} overruns the datagram`);
    }
    const body = off + 4;
    const bodyEnd = off + setLen;
    if (setId === (ipfix ? 2 : 0)) {
      readTemplates(buf, body, bodyEnd, ipfix, false, state, meta, header, out, opts);
    } else if (setId === (ipfix ? 3 : 1)) {
      readTemplates(buf, body, bodyEnd, ipfix, true, state, meta, header, out, opts);
    } else if (setId >= 256) {
      const template = opts.cache.use(state, setId, meta.receivedAt, out.limits);
      if (template) decodeDataSet(buf, body, bodyEnd, template, state, meta, header, out, opts);
      else holdPending(buf.subarray(body, bodyEnd), setId, state, meta, header, out, opts);
    } else {
      out.errors.push('bad_set');
    }
    off = bodyEnd;
  }
}

function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

function readTemplates(
  buf: Buffer,
  start: number,
  end: number,
  ipfix: boolean,
  options: boolean,
  state: DomainState,
  meta: DatagramMeta,
  header: SetHeader,
  out: DecodeResult,
  opts: TemplatedOptions,
): void {
  let off = start;
  while (off + 4 <= end) {
    const id = buf.readUInt16BE(off);
    const second = buf.readUInt16BE(off + 2);
    off += 4;
    if (id === 0 && second === 0) return; // zero padding at the end of the set
    if (ipfix && second === 0 && !options) {
      // Withdrawal (RFC 7011 §8.1): id 2 withdraws every data template of the domain.
      if (id === 2) opts.cache.withdraw(state, (t) => t.scopeCount === 0);
      else opts.cache.withdraw(state, (t) => t.id === id);
      continue;
    }
    if (ipfix && options && second === 0) {
      if (id === 3) opts.cache.withdraw(state, (t) => t.scopeCount > 0);
      else opts.cache.withdraw(state, (t) => t.id === id);
      continue;
    }
    let fieldCount: number;
    let scopeCount = 0;
    if (options) {
      if (ipfix) {
        need(buf, off, 2, 'ipfix options template');
        fieldCount = second;
        scopeCount = buf.readUInt16BE(off);
        off += 2;
      } else {
        // v9 options: scope length and option length in bytes (4 per field).
        need(buf, off, 2, 'netflow v9 options template');
        const optionLen = buf.readUInt16BE(off);
        off += 2;
        scopeCount = second >> 2;
        fieldCount = scopeCount + (optionLen >> 2);
      }
    } else fieldCount = second;
    if (id < 256) throw new DecodeFault('bad_template', `${header.format}: template id ${id} below 256`);
    if (fieldCount === 0 || scopeCount > fieldCount) {
      throw new DecodeFault('bad_template', `${header.format}: template ${id} with ${fieldCount} fields, ${scopeCount} scope`);
    }
    if (fieldCount > opts.cache.maxTemplateFields) {
      // Refused before anything is allocated for it: skip its field specifiers and go on.
      off = skipFieldSpecifiers(buf, off, fieldCount, ipfix, id, header);
      countLimit(out.limits, 'template_fields');
      out.errors.push('bad_template');
      continue;
    }
    need(buf, off, fieldCount * 4, `${header.format} template ${id} fields`);
    const plan = new PlanBuilder(fieldCount);
    for (let i = 0; i < fieldCount; i++) {
      if (off + 4 > buf.length) need(buf, off, 4, `${header.format} template ${id} field ${i}`);
      let fid = (buf[off]! << 8) | buf[off + 1]!;
      const length = (buf[off + 2]! << 8) | buf[off + 3]!;
      off += 4;
      let enterprise = 0;
      if (ipfix && fid & 0x8000) {
        need(buf, off, 4, `ipfix template ${id} enterprise number`);
        enterprise = buf.readUInt32BE(off);
        fid &= 0x7fff;
        off += 4;
      }
      if (length === VARIABLE_LENGTH && !ipfix && fid === 0) {
        throw new DecodeFault('bad_template', `netflow v9: template ${id} field ${i} is invalid`);
      }
      // v9 scope fields are scope types (System, Interface, …), not elements: never read them as such.
      plan.add(!ipfix && i < scopeCount ? 0 : fid, length, enterprise);
    }
    const template = plan.build(id, scopeCount, meta.receivedAt);
    if (template.minLength < fieldCount * opts.cache.minBytesPerField) {
      countLimit(out.limits, 'template_density');
      out.errors.push('bad_template');
      opts.cache.withdraw(state, (t) => t.id === id);
      continue;
    }
    opts.cache.put(state, template, out.limits);
    // v9 option templates: a zero-length padding at the end of the set is allowed.
    if (!ipfix && options && end - off < 4) off = end;
    releasePending(id, template, state, out, opts);
  }
}

/** Walks past `count` field specifiers (4 bytes, 8 with an IPFIX enterprise number) without keeping them. */
function skipFieldSpecifiers(buf: Buffer, off: number, count: number, ipfix: boolean, id: number, header: SetHeader): number {
  need(buf, off, count * 4, `${header.format} template ${id} fields`);
  if (!ipfix) return off + count * 4;
  for (let i = 0; i < count; i++) {
    if (off + 4 > buf.length) need(buf, off, 4, `ipfix template ${id} field ${i}`);
    off += buf[off]! & 0x80 ? 8 : 4;
  }
  need(buf, off, 0, `ipfix template ${id}`);
  return off;
}

function holdPending(
  data: Buffer,
  templateId: number,
  state: DomainState,
  meta: DatagramMeta,
  header: SetHeader,
  out: DecodeResult,
  opts: TemplatedOptions,
): void {
  const cache = opts.cache;
  if (cache.pendingLimit === 0) {
    out.errors.push('template_missing');
    return;
  }
  // Expire this domain's old entries first, then make room.
  for (const _ of cache.dropPending(state, (p) => meta.receivedAt - p.at > cache.pendingTtlMs))
    out.errors.push('template_missing');
  if (state.pending.length >= cache.pendingLimit) {
    const oldest = state.pending[0]!;
    cache.dropPending(state, (p) => p === oldest);
    countLimit(out.limits, 'pending_sets');
    out.errors.push('template_missing');
  }
  if (!cache.admitPending(state, data.length, out.limits)) {
    out.errors.push('template_missing');
    return;
  }
  cache.addPending(state, {
    templateId,
    data: Buffer.from(data),
    header,
    exporter: meta.exporter,
    receivedAt: meta.receivedAt,
    at: meta.receivedAt,
  });
}

function releasePending(id: number, template: Template, state: DomainState, out: DecodeResult, opts: TemplatedOptions) {
  const waiting = opts.cache.dropPending(state, (p) => p.templateId === id);
  for (const p of waiting) {
    try {
      decodeDataSet(
        p.data,
        0,
        p.data.length,
        template,
        state,
        { exporter: p.exporter, receivedAt: p.receivedAt },
        p.header,
        out,
        opts,
      );
    } catch (err) {
      out.errors.push(err instanceof DecodeFault ? err.reason : 'bad_record');
    }
  }
}

function ntpMs(buf: Buffer, off: number): number {
  const s = buf.readUInt32BE(off);
  const frac = buf.readUInt32BE(off + 4);
  return (s - NTP_EPOCH_OFFSET_S) * 1000 + Math.floor((frac / 4294967296) * 1000);
}

/** Decodes every record of one data set with `template`. */
function decodeDataSet(
  buf: Buffer,
  start: number,
  end: number,
  template: Template,
  state: DomainState,
  meta: DatagramMeta,
  header: SetHeader,
  out: DecodeResult,
  opts: TemplatedOptions,
): void {
  const codes = template.codes;
  const lengths = template.lengths;
  const steps = codes.length;
  const isOption = template.scopeCount > 0;
  const minLen = template.minLength;
  let off = start;
  const format = header.format;
  const uptime = header.sysUptime;
  const maxFlows = opts.cache.maxFlowsPerDatagram;
  while (end - off >= minLen && minLen > 0) {
    // Locals for the record being read (-1 = absent).
    let bytes = -1;
    let packets = -1;
    let protocol = 0;
    let tos = -1;
    let dscp = -1;
    let tcpFlags = -1;
    let srcPort = -1;
    let dstPort = -1;
    let src = '';
    let dst = '';
    let src6 = '';
    let dst6 = '';
    let inIf = -1;
    let outIf = -1;
    let nextHop = '';
    let bgpNextHop = '';
    let srcAs = -1;
    let dstAs = -1;
    let first = -1;
    let last = -1;
    let startMs = -1;
    let endMs = -1;
    let rate = -1;
    let samplerId = -1;
    let pktInterval = -1;
    let pktSpace = -1;
    let sampleSize = -1;
    let population = -1;
    let altBytes = -1;
    let altPackets = -1;
    let initMs = -1;
    for (let i = 0; i < steps; i++) {
      const code = codes[i]!;
      let len = lengths[i]!;
      if (len === VARIABLE_LENGTH) {
        if (off >= end) throw new DecodeFault('bad_record', `${format}: template ${template.id} record overruns its set`);
        len = buf[off]!;
        off += 1;
        if (len === 255) {
          if (off + 2 > end) throw new DecodeFault('bad_record', `${format}: template ${template.id} record overruns its set`);
          len = buf.readUInt16BE(off);
          off += 2;
        }
      }
      if (off + len > end) throw new DecodeFault('bad_record', `${format}: template ${template.id} record overruns its set`);
      if (code === 0 || len === 0) {
        off += len;
        continue;
      }
      switch (code) {
        case 1:
          bytes = readUint(buf, off, len);
          break;
        case 2:
          packets = readUint(buf, off, len);
          break;
        case 85:
        case 231:
          if (altBytes < 0) altBytes = readUint(buf, off, len);
          break;
        case 86:
        case 298:
          if (altPackets < 0) altPackets = readUint(buf, off, len);
          break;
        case 4:
          protocol = buf[off + len - 1]!;
          break;
        case 5:
          tos = buf[off + len - 1]!;
          break;
        case 195:
          dscp = buf[off + len - 1]! & 0x3f;
          break;
        case 6:
          tcpFlags = buf[off + len - 1]!;
          break;
        case 7:
          if (len <= 4) srcPort = readUint(buf, off, len) & 0xffff;
          break;
        case 11:
          if (len <= 4) dstPort = readUint(buf, off, len) & 0xffff;
          break;
        case 8:
          if (len === 4) src = ipv4At(buf, off);
          break;
        case 12:
          if (len === 4) dst = ipv4At(buf, off);
          break;
        case 27:
          if (len === 16) src6 = ipv6At(buf, off);
          break;
        case 28:
          if (len === 16) dst6 = ipv6At(buf, off);
          break;
        case 10:
          if (len <= 4) inIf = readUint(buf, off, len);
          break;
        case 14:
          if (len <= 4) outIf = readUint(buf, off, len);
          break;
        case 15:
          if (len === 4) nextHop = ipv4At(buf, off);
          break;
        case 62:
          if (len === 16) nextHop = ipv6At(buf, off);
          break;
        case 18:
          if (len === 4) bgpNextHop = ipv4At(buf, off);
          break;
        case 63:
          if (len === 16) bgpNextHop = ipv6At(buf, off);
          break;
        case 16:
          if (len <= 4) srcAs = readUint(buf, off, len);
          break;
        case 17:
          if (len <= 4) dstAs = readUint(buf, off, len);
          break;
        case 21:
          if (len === 4) last = buf.readUInt32BE(off);
          break;
        case 22:
          if (len === 4) first = buf.readUInt32BE(off);
          break;
        case 150:
          if (len === 4) startMs = buf.readUInt32BE(off) * 1000;
          break;
        case 151:
          if (len === 4) endMs = buf.readUInt32BE(off) * 1000;
          break;
        case 152:
          if (len === 8) startMs = readUint(buf, off, 8);
          break;
        case 153:
          if (len === 8) endMs = readUint(buf, off, 8);
          break;
        case 154:
        case 156:
          if (len === 8) startMs = ntpMs(buf, off);
          break;
        case 155:
        case 157:
          if (len === 8) endMs = ntpMs(buf, off);
          break;
        case 158:
          if (len === 4) startMs = header.exportMs - Math.floor(buf.readUInt32BE(off) / 1000);
          break;
        case 159:
          if (len === 4) endMs = header.exportMs - Math.floor(buf.readUInt32BE(off) / 1000);
          break;
        case 160:
          if (len === 8) initMs = readUint(buf, off, 8);
          break;
        case 34:
        case 50:
          if (len <= 4) rate = readUint(buf, off, len);
          break;
        case 305:
          if (len <= 4) pktInterval = readUint(buf, off, len);
          break;
        case 306:
          if (len <= 4) pktSpace = readUint(buf, off, len);
          break;
        case 309:
          if (len <= 4) sampleSize = readUint(buf, off, len);
          break;
        case 310:
          if (len <= 4) population = readUint(buf, off, len);
          break;
        case 311:
          // samplingProbability (float64): 1-in-(1/p).
          if (len === 8) {
            const p = buf.readDoubleBE(off);
            if (p > 0 && p <= 1) rate = Math.round(1 / p);
          }
          break;
        case 48:
        case 302:
          if (len <= 8) samplerId = readUint(buf, off, len);
          break;
        default:
          break;
      }
      off += len;
    }
    // Systematic count-based (RFC 5476: interval selected, space skipped) and random n-out-of-N selectors.
    if (rate < 0 && pktInterval > 0 && pktSpace >= 0) rate = Math.round((pktInterval + pktSpace) / pktInterval);
    if (rate < 0 && sampleSize > 0 && population >= sampleSize) rate = Math.round(population / sampleSize);
    if (isOption) {
      if (initMs >= 0) state.systemInitMs = initMs;
      if (rate > 0) {
        if (samplerId >= 0) {
          state.samplerRates.set(samplerId, rate);
          state.lastSamplerRate = rate;
        } else state.domainRate = rate;
      }
      continue;
    }
    // Templates with both families (Procera, some firewalls) fill one and zero the other.
    if (src6 !== '' && (src === '' || (src === '0.0.0.0' && src6 !== '::'))) src = src6;
    if (dst6 !== '' && (dst === '' || (dst === '0.0.0.0' && dst6 !== '::'))) dst = dst6;
    if (bytes < 0) bytes = altBytes;
    if (packets < 0) packets = altPackets;
    if (bytes < 0 && packets < 0 && src === '' && dst === '') continue; // not a flow (e.g. an event record)
    let sampling = rate > 0 ? rate : -1;
    if (sampling < 0 && samplerId >= 0) sampling = state.samplerRates.get(samplerId) ?? -1;
    if (sampling < 0 && state.domainRate !== undefined) sampling = state.domainRate;
    // A record without a sampler id (or id 0) takes the sampler announced last: IOS XR and the C7600
    // export the sampler only in option data (pmacct's search_smp_id_status_table does the same).
    if (sampling < 0 && samplerId <= 0 && state.lastSamplerRate !== undefined) sampling = state.lastSamplerRate;
    if (sampling < 0) {
      sampling = opts.defaultRate;
      out.defaultRated++;
    }
    const rec: FlowRecord = {
      time_received: meta.receivedAt,
      exporter: meta.exporter,
      format,
      domain_id: header.domain,
      sequence: header.sequence,
      sampling_rate: sampling > 0xffffffff ? 0xffffffff : sampling,
      src_addr: src,
      dst_addr: dst,
      protocol,
      bytes: bytes < 0 ? 0 : bytes,
      packets: packets < 0 ? 0 : packets,
    };
    if (srcPort >= 0) rec.src_port = srcPort;
    if (dstPort >= 0) rec.dst_port = dstPort;
    if (tcpFlags >= 0) rec.tcp_flags = tcpFlags;
    if (dscp >= 0) rec.dscp = dscp;
    else if (tos >= 0) rec.dscp = tos >> 2;
    if (inIf >= 0) rec.in_if = inIf;
    if (outIf >= 0) rec.out_if = outIf;
    if (nextHop !== '') rec.next_hop = nextHop;
    else if (bgpNextHop !== '') rec.next_hop = bgpNextHop;
    if (srcAs >= 0) rec.src_as = srcAs;
    if (dstAs >= 0) rec.dst_as = dstAs;
    // v9 uptimes are modulo 2^32 relative to the header's sysUptime; IPFIX's are relative to
    // systemInitTimeMilliseconds (IE 160) from the record or the domain's option data.
    if (initMs < 0 && state.systemInitMs !== undefined) initMs = state.systemInitMs;
    if (startMs < 0 && first >= 0) {
      if (uptime !== undefined) startMs = header.exportMs - ((uptime - first) >>> 0);
      else if (initMs >= 0) startMs = initMs + first;
    }
    if (endMs < 0 && last >= 0) {
      if (uptime !== undefined) endMs = header.exportMs - ((uptime - last) >>> 0);
      else if (initMs >= 0) endMs = initMs + last;
    }
    if (startMs >= 0) {
      const t = validTime(startMs);
      if (t !== undefined) rec.flow_start = t;
    }
    if (endMs >= 0) {
      const t = validTime(endMs);
      if (t !== undefined) rec.flow_end = t;
    }
    if (rec.bytes > Number.MAX_SAFE_INTEGER) rec.bytes = Number.MAX_SAFE_INTEGER;
    if (rec.packets > Number.MAX_SAFE_INTEGER) rec.packets = Number.MAX_SAFE_INTEGER;
    if (out.flows.length >= maxFlows) {
      // Records of a few bytes each (no real exporter's) would make one datagram cost tens of thousands of flows.
      countLimit(out.limits, 'flows_per_datagram');
      return;
    }
    out.flows.push(rec);
  }
}
