/**
 * A small reader for classic libpcap files (both byte orders, micro- and nanosecond variants) that
 * yields UDP datagrams with their addresses, for decoding captured flow exports. Link types:
 * Ethernet (with 802.1Q), BSD loopback/null, raw IP and Linux cooked (SLL).
 */
import { readFileSync } from 'node:fs';
import { ipv4At, ipv6At } from '../flow/addr.ts';

export interface UdpDatagram {
  /** Capture time, epoch ms. */
  time: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export class PcapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapError';
  }
}

export function isPcap(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  const m = buf.readUInt32LE(0);
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1;
}

export function readPcapFile(path: string): UdpDatagram[] {
  return parsePcap(readFileSync(path));
}

export function parsePcap(buf: Buffer): UdpDatagram[] {
  if (buf.length < 24 || !isPcap(buf)) throw new PcapError('not a libpcap file (pcapng is not supported)');
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const out: UdpDatagram[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const capLen = u32(off + 8);
    const data = off + 16;
    if (data + capLen > buf.length) break; // truncated last packet
    const time = sec * 1000 + Math.floor(nano ? frac / 1e6 : frac / 1e3);
    const pkt = buf.subarray(data, data + capLen);
    const d = udpOf(pkt, linkType, time);
    if (d) out.push(d);
    off = data + capLen;
  }
  return out;
}

function udpOf(pkt: Buffer, linkType: number, time: number): UdpDatagram | undefined {
  let off: number;
  let etherType: number;
  switch (linkType) {
    case 1: // Ethernet
      if (pkt.length < 14) return undefined;
      etherType = pkt.readUInt16BE(12);
      off = 14;
      while ((etherType === 0x8100 || etherType === 0x88a8) && off + 4 <= pkt.length) {
        etherType = pkt.readUInt16BE(off + 2);
        off += 4;
      }
      break;
    case 0: // BSD loopback: host-order family
    case 108: {
      if (pkt.length < 4) return undefined;
      const fam = pkt.readUInt32LE(0) > 0xffff ? pkt.readUInt32BE(0) : pkt.readUInt32LE(0);
      etherType = fam === 2 ? 0x0800 : 0x86dd;
      off = 4;
      break;
    }
    case 101: // raw IP
    case 12:
      if (pkt.length < 1) return undefined;
      etherType = pkt[0]! >> 4 === 6 ? 0x86dd : 0x0800;
      off = 0;
      break;
    case 113: // Linux cooked
      if (pkt.length < 16) return undefined;
      etherType = pkt.readUInt16BE(14);
      off = 16;
      break;
    default:
      throw new PcapError(`unsupported pcap link type ${linkType}`);
  }
  if (etherType === 0x0800) {
    if (off + 20 > pkt.length || pkt[off]! >> 4 !== 4) return undefined;
    const ihl = (pkt[off]! & 0x0f) * 4;
    if (pkt[off + 9] !== 17 || (pkt.readUInt16BE(off + 6) & 0x1fff) !== 0) return undefined;
    const totalLen = pkt.readUInt16BE(off + 2);
    const u = off + ihl;
    if (u + 8 > pkt.length) return undefined;
    const udpLen = pkt.readUInt16BE(u + 4);
    const end = Math.min(pkt.length, off + totalLen, u + udpLen);
    return {
      time,
      src: ipv4At(pkt, off + 12),
      dst: ipv4At(pkt, off + 16),
      srcPort: pkt.readUInt16BE(u),
      dstPort: pkt.readUInt16BE(u + 2),
      payload: pkt.subarray(u + 8, end),
    };
  }
  if (etherType === 0x86dd) {
    if (off + 48 > pkt.length || pkt[off + 6] !== 17) return undefined;
    const u = off + 40;
    const udpLen = pkt.readUInt16BE(u + 4);
    return {
      time,
      src: ipv6At(pkt, off + 8),
      dst: ipv6At(pkt, off + 24),
      srcPort: pkt.readUInt16BE(u),
      dstPort: pkt.readUInt16BE(u + 2),
      payload: pkt.subarray(u + 8, Math.min(pkt.length, u + udpLen)),
    };
  }
  return undefined;
}
