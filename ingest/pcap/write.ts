/**
 * Writes classic libpcap files of synthetic IPv4 TCP/UDP traffic (Ethernet link type), for feeding
 * real flow exporters (softflowd, pmacct) in tests and benchmarks.
 */
import { writeFileSync } from 'node:fs';
import { writeIpv4 } from '../flow/addr.ts';

export interface SyntheticPacket {
  /** Epoch ms. */
  time: number;
  src: string;
  dst: string;
  protocol: 6 | 17;
  srcPort: number;
  dstPort: number;
  /** IP total length (header + transport + payload), ≥ 48. */
  length: number;
  dscp?: number;
  /** TCP flags (TCP only). */
  tcpFlags?: number;
}

export function pcapBytes(packets: readonly SyntheticPacket[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const parts: Buffer[] = [header];
  packets.forEach((p, i) => {
    const ipLen = Math.max(p.length, 48);
    const frame = Buffer.alloc(14 + ipLen);
    frame.writeUInt16BE(0x0800, 12);
    frame.writeUInt32BE(0x00000001, 2);
    frame.writeUInt32BE(0x00000002, 8);
    const o = 14;
    frame[o] = 0x45;
    frame[o + 1] = (p.dscp ?? 0) << 2;
    frame.writeUInt16BE(ipLen, o + 2);
    frame.writeUInt16BE(i & 0xffff, o + 4);
    frame[o + 8] = 64;
    frame[o + 9] = p.protocol;
    writeIpv4(frame, o + 12, p.src);
    writeIpv4(frame, o + 16, p.dst);
    const t = o + 20;
    frame.writeUInt16BE(p.srcPort, t);
    frame.writeUInt16BE(p.dstPort, t + 2);
    if (p.protocol === 6) {
      frame[t + 12] = 5 << 4;
      frame[t + 13] = p.tcpFlags ?? 0x18;
    } else frame.writeUInt16BE(ipLen - 20, t + 4);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.time / 1000), 0);
    rec.writeUInt32LE((p.time % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  return Buffer.concat(parts);
}

export function writePcap(path: string, packets: readonly SyntheticPacket[]): void {
  writeFileSync(path, pcapBytes(packets));
}
