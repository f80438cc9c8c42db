/**
 * Probe packets in the TWAMP-Test unauthenticated format (RFC 5357 §4.1.2 and §4.2.1), as
 * TWAMP-light and STAMP (RFC 8762) reflectors use it, so pathpilot's sender and reflector also work
 * with other TWAMP-light implementations. Timestamps are NTP 64-bit (seconds since 1900 + fraction).
 * Pure functions over a Buffer; no I/O.
 *
 * Sender:    seq(4) timestamp(8) error-estimate(2) padding…
 * Reflector: seq(4) timestamp(8) error-estimate(2) mbz(2) receive-timestamp(8) sender-seq(4)
 *            sender-timestamp(8) sender-error-estimate(2) mbz(2) sender-ttl(1) padding…
 */

/** Smallest reflected packet; requests are padded to at least this so both directions are equal. */
export const minPacketSize = 41;
export const maxPacketSize = 1472;
const ntpEpochOffset = 2_208_988_800; // seconds from 1900-01-01 to 1970-01-01
/** Error estimate: S=0 (not synchronized to UTC), scale 0, multiplier 1. */
const errorEstimate = 0x0001;

export function writeNtp(buf: Buffer, offset: number, epochMs: number): void {
  const seconds = Math.floor(epochMs / 1000);
  const fraction = Math.floor(((epochMs - seconds * 1000) / 1000) * 0x1_0000_0000);
  buf.writeUInt32BE((seconds + ntpEpochOffset) >>> 0, offset);
  buf.writeUInt32BE(Math.min(fraction, 0xffffffff) >>> 0, offset + 4);
}

export function readNtp(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset) - ntpEpochOffset;
  const fraction = buf.readUInt32BE(offset + 4);
  return seconds * 1000 + (fraction / 0x1_0000_0000) * 1000;
}

/** A sender (request) packet of `size` bytes. */
export function encodeRequest(seq: number, sentMs: number, size = minPacketSize): Buffer {
  const buf = Buffer.alloc(Math.min(maxPacketSize, Math.max(minPacketSize, size)));
  buf.writeUInt32BE(seq >>> 0, 0);
  writeNtp(buf, 4, sentMs);
  buf.writeUInt16BE(errorEstimate, 12);
  return buf;
}

export interface Request {
  seq: number;
  sentMs: number;
}

/** Reads a request; undefined when too short to be one. */
export function decodeRequest(buf: Buffer): Request | undefined {
  if (buf.length < 14) return undefined;
  return { seq: buf.readUInt32BE(0), sentMs: readNtp(buf, 4) };
}

/** The reflected packet for `request` (same size, at least 41 bytes), stateless: seq is the sender's. */
export function encodeReply(request: Buffer, receivedMs: number, sentMs: number, ttl = 255): Buffer {
  const buf = Buffer.alloc(Math.min(maxPacketSize, Math.max(minPacketSize, request.length)));
  const seq = request.readUInt32BE(0);
  buf.writeUInt32BE(seq, 0);
  writeNtp(buf, 4, sentMs);
  buf.writeUInt16BE(errorEstimate, 12);
  writeNtp(buf, 16, receivedMs);
  buf.writeUInt32BE(seq, 24);
  request.copy(buf, 28, 4, 12); // sender timestamp
  buf.writeUInt16BE(request.readUInt16BE(12), 36);
  buf.writeUInt8(ttl & 0xff, 40);
  return buf;
}

export interface Reply {
  reflectorSeq: number;
  reflectorSentMs: number;
  reflectorReceivedMs: number;
  senderSeq: number;
  senderSentMs: number;
}

/** Reads a reflected packet; undefined when too short to be one. */
export function decodeReply(buf: Buffer): Reply | undefined {
  if (buf.length < minPacketSize) return undefined;
  return {
    reflectorSeq: buf.readUInt32BE(0),
    reflectorSentMs: readNtp(buf, 4),
    reflectorReceivedMs: readNtp(buf, 16),
    senderSeq: buf.readUInt32BE(24),
    senderSentMs: readNtp(buf, 28),
  };
}
