import type { FlowRecord } from '../../core/records/index.ts';
import { ipv4At } from './addr.ts';
import { DecodeFault, need, validTime, type DatagramMeta, type DecodeResult } from './types.ts';

const HEADER = 24;
const RECORD = 48;

/**
 * Decodes a NetFlow v5 datagram (Cisco's fixed format: 24-byte header, 48-byte records, at most 30).
 * The sampling rate comes from the header's 14-bit interval; 0 there means "not sampled" → 1.
 */
export function decodeNetflow5(buf: Buffer, meta: DatagramMeta, out: DecodeResult, defaultRate = 1): void {
  need(buf, 0, HEADER, 'netflow v5 header');
  const count = buf.readUInt16BE(2);
  if (count === 0 || count > 30) throw new DecodeFault('bad_header', `netflow v5: record count ${count} outside 1..30`);
  const sysUptime = buf.readUInt32BE(4);
  const unixSecs = buf.readUInt32BE(8);
  const unixNsecs = buf.readUInt32BE(12);
  const sequence = buf.readUInt32BE(16);
  const domain = (buf[20]! << 8) | buf[21]!;
  const interval = buf.readUInt16BE(22) & 0x3fff;
  const rate = interval > 0 ? interval : defaultRate;
  const defaulted = interval === 0;
  const exportMs = unixSecs * 1000 + Math.floor(unixNsecs / 1e6);
  const available = Math.floor((buf.length - HEADER) / RECORD);
  const n = Math.min(count, available);
  for (let i = 0; i < n; i++) {
    const o = HEADER + i * RECORD;
    const first = buf.readUInt32BE(o + 24);
    const last = buf.readUInt32BE(o + 28);
    const rec: FlowRecord = {
      time_received: meta.receivedAt,
      exporter: meta.exporter,
      format: 'netflow5',
      domain_id: domain,
      sequence: (sequence + i) >>> 0,
      sampling_rate: rate,
      src_addr: ipv4At(buf, o),
      dst_addr: ipv4At(buf, o + 4),
      next_hop: ipv4At(buf, o + 8),
      in_if: buf.readUInt16BE(o + 12),
      out_if: buf.readUInt16BE(o + 14),
      packets: buf.readUInt32BE(o + 16),
      bytes: buf.readUInt32BE(o + 20),
      src_port: buf.readUInt16BE(o + 32),
      dst_port: buf.readUInt16BE(o + 34),
      tcp_flags: buf[o + 37]!,
      protocol: buf[o + 38]!,
      dscp: buf[o + 39]! >> 2,
      src_as: buf.readUInt16BE(o + 40),
      dst_as: buf.readUInt16BE(o + 42),
    };
    // Uptime arithmetic is modulo 2^32 (a first packet "before boot" shows as 0xffffffff).
    const start = validTime(exportMs - ((sysUptime - first) >>> 0));
    const end = validTime(exportMs - ((sysUptime - last) >>> 0));
    if (start !== undefined) rec.flow_start = start;
    if (end !== undefined) rec.flow_end = end;
    out.flows.push(rec);
    if (defaulted) out.defaultRated++;
  }
  if (n < count) throw new DecodeFault('truncated', `netflow v5: header announces ${count} records, datagram holds ${n}`);
}
