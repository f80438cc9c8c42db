import type { FlowRecord, IfaceRecord } from '../../core/records/index.ts';
import { ipv4At, ipv6At } from './addr.ts';
import { DecodeFault, need, readUint, type DatagramMeta, type DecodeResult } from './types.ts';

/**
 * sFlow v5 (sflow.org/sflow_version_5.txt): flow samples and expanded flow samples → flow records
 * (raw packet headers parsed through Ethernet, 802.1Q, IPv4, IPv6, TCP, UDP; sampled IPv4/IPv6
 * records; extended router and gateway data), counter samples and expanded counter samples with
 * generic interface counters → iface records. The sampling rate comes from each sample.
 */

interface PacketInfo {
  src: string;
  dst: string;
  protocol: number;
  dscp: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  /** Bytes: the frame length from the sample. */
  length: number;
  nextHop: string;
  srcAs: number;
  dstAs: number;
  seen: boolean;
}

function readAddress(buf: Buffer, off: number, end: number): { addr: string; next: number } {
  need(buf, off, 4, 'sflow address type');
  const type = buf.readUInt32BE(off);
  if (type === 1) {
    if (off + 8 > end) throw new DecodeFault('truncated', 'sflow: IPv4 address overruns');
    return { addr: ipv4At(buf, off + 4), next: off + 8 };
  }
  if (type === 2) {
    if (off + 20 > end) throw new DecodeFault('truncated', 'sflow: IPv6 address overruns');
    return { addr: ipv6At(buf, off + 4), next: off + 20 };
  }
  if (type === 0) return { addr: '', next: off + 4 };
  throw new DecodeFault('bad_sample', `sflow: unknown address type ${type}`);
}

export function decodeSflow(buf: Buffer, meta: DatagramMeta, out: DecodeResult): void {
  need(buf, 0, 8, 'sflow header');
  const end = buf.length;
  const agent = readAddress(buf, 4, end);
  let off = agent.next;
  need(buf, off, 16, 'sflow header');
  const subAgent = buf.readUInt32BE(off);
  const sequence = buf.readUInt32BE(off + 4);
  const samples = buf.readUInt32BE(off + 12);
  off += 16;
  const exporter = agent.addr !== '' && agent.addr !== '0.0.0.0' ? agent.addr : meta.exporter;
  for (let s = 0; s < samples; s++) {
    need(buf, off, 8, `sflow sample ${s} header`);
    const tag = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    const body = off + 8;
    if (body + len > end) throw new DecodeFault('truncated', `sflow: sample ${s} (length ${len}) overruns the datagram`);
    const enterprise = tag >>> 12;
    const format = tag & 0xfff;
    if (enterprise === 0) {
      try {
        if (format === 1 || format === 3)
          flowSample(buf, body, body + len, format === 3, exporter, subAgent, sequence, meta, out);
        else if (format === 2 || format === 4) counterSample(buf, body, body + len, format === 4, exporter, meta, out);
      } catch (err) {
        if (err instanceof DecodeFault) out.errors.push(err.reason);
        else throw err;
      }
    }
    off = body + len;
  }
}

function flowSample(
  buf: Buffer,
  start: number,
  end: number,
  expanded: boolean,
  exporter: string,
  subAgent: number,
  sequence: number,
  meta: DatagramMeta,
  out: DecodeResult,
): void {
  let off = start;
  let rate: number;
  let input: number;
  let output: number;
  if (expanded) {
    if (off + 44 > end) throw new DecodeFault('bad_sample', 'sflow: expanded flow sample too short');
    rate = buf.readUInt32BE(off + 12);
    // input/output: format (0 = ifIndex) then value.
    input = buf.readUInt32BE(off + 24) === 0 ? buf.readUInt32BE(off + 28) : -1;
    output = buf.readUInt32BE(off + 32) === 0 ? buf.readUInt32BE(off + 36) : -1;
    off += 40;
  } else {
    if (off + 32 > end) throw new DecodeFault('bad_sample', 'sflow: flow sample too short');
    rate = buf.readUInt32BE(off + 8);
    const i = buf.readUInt32BE(off + 20);
    const o = buf.readUInt32BE(off + 24);
    // Compact form: top 2 bits are a format; 0 means a plain ifIndex.
    input = i >>> 30 === 0 ? i & 0x3fffffff : -1;
    output = o >>> 30 === 0 ? o & 0x3fffffff : -1;
    off += 28;
  }
  const records = buf.readUInt32BE(off);
  off += 4;
  const info: PacketInfo = {
    src: '',
    dst: '',
    protocol: 0,
    dscp: -1,
    srcPort: -1,
    dstPort: -1,
    tcpFlags: -1,
    length: 0,
    nextHop: '',
    srcAs: -1,
    dstAs: -1,
    seen: false,
  };
  for (let r = 0; r < records; r++) {
    if (off + 8 > end) throw new DecodeFault('bad_sample', `sflow: flow record ${r} header overruns its sample`);
    const tag = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    const body = off + 8;
    if (body + len > end) throw new DecodeFault('bad_sample', `sflow: flow record ${r} overruns its sample`);
    if (tag >>> 12 === 0) flowRecordData(buf, body, body + len, tag & 0xfff, info);
    off = body + len;
  }
  if (!info.seen) return;
  const rec: FlowRecord = {
    time_received: meta.receivedAt,
    exporter,
    format: 'sflow5',
    domain_id: subAgent,
    sequence,
    sampling_rate: rate > 0 ? rate : 1,
    src_addr: info.src,
    dst_addr: info.dst,
    protocol: info.protocol,
    bytes: info.length,
    packets: 1,
  };
  if (info.srcPort >= 0) rec.src_port = info.srcPort;
  if (info.dstPort >= 0) rec.dst_port = info.dstPort;
  if (info.tcpFlags >= 0) rec.tcp_flags = info.tcpFlags;
  if (info.dscp >= 0) rec.dscp = info.dscp;
  if (input >= 0) rec.in_if = input;
  if (output >= 0) rec.out_if = output;
  if (info.nextHop !== '') rec.next_hop = info.nextHop;
  if (info.srcAs >= 0) rec.src_as = info.srcAs;
  if (info.dstAs >= 0) rec.dst_as = info.dstAs;
  out.flows.push(rec);
}

function flowRecordData(buf: Buffer, off: number, end: number, format: number, info: PacketInfo): void {
  switch (format) {
    case 1: {
      // Raw packet header.
      if (off + 16 > end) throw new DecodeFault('bad_sample', 'sflow: raw packet header record too short');
      const proto = buf.readUInt32BE(off);
      const frameLength = buf.readUInt32BE(off + 4);
      const headerLen = buf.readUInt32BE(off + 12);
      const h = off + 16;
      const hEnd = Math.min(h + headerLen, end);
      info.length = frameLength;
      info.seen = true;
      if (proto === 1) parseEthernet(buf, h, hEnd, info);
      else if (proto === 11) parseIpv4(buf, h, hEnd, info);
      else if (proto === 12) parseIpv6(buf, h, hEnd, info);
      return;
    }
    case 3: {
      // Sampled IPv4.
      if (off + 32 > end) throw new DecodeFault('bad_sample', 'sflow: sampled IPv4 record too short');
      if (!info.seen || info.src === '') {
        info.length = buf.readUInt32BE(off);
        info.protocol = buf.readUInt32BE(off + 4) & 0xff;
        info.src = ipv4At(buf, off + 8);
        info.dst = ipv4At(buf, off + 12);
        info.srcPort = buf.readUInt32BE(off + 16) & 0xffff;
        info.dstPort = buf.readUInt32BE(off + 20) & 0xffff;
        info.tcpFlags = buf.readUInt32BE(off + 24) & 0xff;
        info.dscp = (buf.readUInt32BE(off + 28) & 0xff) >> 2;
        info.seen = true;
      }
      return;
    }
    case 4: {
      // Sampled IPv6.
      if (off + 56 > end) throw new DecodeFault('bad_sample', 'sflow: sampled IPv6 record too short');
      if (!info.seen || info.src === '') {
        info.length = buf.readUInt32BE(off);
        info.protocol = buf.readUInt32BE(off + 4) & 0xff;
        info.src = ipv6At(buf, off + 8);
        info.dst = ipv6At(buf, off + 24);
        info.srcPort = buf.readUInt32BE(off + 40) & 0xffff;
        info.dstPort = buf.readUInt32BE(off + 44) & 0xffff;
        info.tcpFlags = buf.readUInt32BE(off + 48) & 0xff;
        info.dscp = (buf.readUInt32BE(off + 52) & 0xff) >> 2;
        info.seen = true;
      }
      return;
    }
    case 1002: {
      // Extended router: next hop, masks.
      const a = readAddress(buf, off, end);
      info.nextHop = a.addr;
      return;
    }
    case 1003: {
      // Extended gateway: next hop, router AS, source AS, source peer AS, destination AS path.
      const a = readAddress(buf, off, end);
      let o = a.next;
      if (o + 16 > end) throw new DecodeFault('bad_sample', 'sflow: extended gateway record too short');
      if (info.nextHop === '') info.nextHop = a.addr;
      info.srcAs = buf.readUInt32BE(o + 4);
      const segments = buf.readUInt32BE(o + 12);
      o += 16;
      let lastAs = -1;
      for (let i = 0; i < segments; i++) {
        if (o + 8 > end) throw new DecodeFault('bad_sample', 'sflow: AS path overruns');
        const n = buf.readUInt32BE(o + 4);
        o += 8;
        if (o + 4 * n > end) throw new DecodeFault('bad_sample', 'sflow: AS path overruns');
        if (n > 0) lastAs = buf.readUInt32BE(o + 4 * (n - 1));
        o += 4 * n;
      }
      if (lastAs >= 0) info.dstAs = lastAs;
      return;
    }
    default:
      return;
  }
}

function parseEthernet(buf: Buffer, off: number, end: number, info: PacketInfo): void {
  if (off + 14 > end) return;
  let etherType = buf.readUInt16BE(off + 12);
  let o = off + 14;
  // 802.1Q / 802.1ad tags (at most two).
  for (let i = 0; i < 2 && (etherType === 0x8100 || etherType === 0x88a8); i++) {
    if (o + 4 > end) return;
    etherType = buf.readUInt16BE(o + 2);
    o += 4;
  }
  if (etherType === 0x0800) parseIpv4(buf, o, end, info);
  else if (etherType === 0x86dd) parseIpv6(buf, o, end, info);
}

function parseIpv4(buf: Buffer, off: number, end: number, info: PacketInfo): void {
  if (off + 20 > end) return;
  const ihl = (buf[off]! & 0x0f) * 4;
  if (buf[off]! >> 4 !== 4 || ihl < 20) return;
  info.dscp = buf[off + 1]! >> 2;
  info.protocol = buf[off + 9]!;
  info.src = ipv4At(buf, off + 12);
  info.dst = ipv4At(buf, off + 16);
  // Only the first fragment carries the transport header.
  const fragOffset = buf.readUInt16BE(off + 6) & 0x1fff;
  if (fragOffset === 0) parseTransport(buf, off + ihl, end, info);
}

function parseIpv6(buf: Buffer, off: number, end: number, info: PacketInfo): void {
  if (off + 40 > end) return;
  if (buf[off]! >> 4 !== 6) return;
  info.dscp = ((buf.readUInt16BE(off) >> 4) & 0xff) >> 2;
  let next = buf[off + 6]!;
  info.src = ipv6At(buf, off + 8);
  info.dst = ipv6At(buf, off + 24);
  let o = off + 40;
  // Skip hop-by-hop, routing, destination options and fragment headers.
  for (let i = 0; i < 4 && (next === 0 || next === 43 || next === 60 || next === 44); i++) {
    if (o + 8 > end) {
      info.protocol = next;
      return;
    }
    const hdrNext = buf[o]!;
    const len = next === 44 ? 8 : (buf[o + 1]! + 1) * 8;
    next = hdrNext;
    o += len;
  }
  info.protocol = next;
  parseTransport(buf, o, end, info);
}

function parseTransport(buf: Buffer, off: number, end: number, info: PacketInfo): void {
  const p = info.protocol;
  if (p === 6 || p === 17 || p === 132) {
    if (off + 4 > end) return;
    info.srcPort = buf.readUInt16BE(off);
    info.dstPort = buf.readUInt16BE(off + 2);
    if (p === 6 && off + 14 <= end) info.tcpFlags = buf[off + 13]!;
  }
}

function counterSample(
  buf: Buffer,
  start: number,
  end: number,
  expanded: boolean,
  router: string,
  meta: DatagramMeta,
  out: DecodeResult,
) {
  let off = start + (expanded ? 12 : 8);
  if (off + 4 > end) throw new DecodeFault('bad_sample', 'sflow: counter sample too short');
  const records = buf.readUInt32BE(off);
  off += 4;
  for (let r = 0; r < records; r++) {
    if (off + 8 > end) throw new DecodeFault('bad_sample', `sflow: counter record ${r} header overruns its sample`);
    const tag = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    const body = off + 8;
    if (body + len > end) throw new DecodeFault('bad_sample', `sflow: counter record ${r} overruns its sample`);
    if (tag === 1) {
      // Generic interface counters (88 bytes).
      if (len < 88) throw new DecodeFault('bad_sample', 'sflow: generic interface counters too short');
      const o = body;
      const ifIndex = buf.readUInt32BE(o);
      const rec: IfaceRecord = {
        time: meta.receivedAt,
        router,
        interface: `if${ifIndex}`,
        if_index: ifIndex,
        speed_bps: readUint(buf, o + 8, 8),
        in_octets: readUint(buf, o + 24, 8),
        in_packets: buf.readUInt32BE(o + 32) + buf.readUInt32BE(o + 36) + buf.readUInt32BE(o + 40),
        in_drops: buf.readUInt32BE(o + 44),
        in_errors: buf.readUInt32BE(o + 48),
        out_octets: readUint(buf, o + 56, 8),
        out_packets: buf.readUInt32BE(o + 64) + buf.readUInt32BE(o + 68) + buf.readUInt32BE(o + 72),
        out_drops: buf.readUInt32BE(o + 76),
        out_errors: buf.readUInt32BE(o + 80),
        source: 'sflow',
      };
      for (const k of ['speed_bps', 'in_octets', 'out_octets'] as const) {
        if (rec[k]! > Number.MAX_SAFE_INTEGER) rec[k] = Number.MAX_SAFE_INTEGER;
      }
      out.ifaces.push(rec);
    }
    off = body + len;
  }
}
