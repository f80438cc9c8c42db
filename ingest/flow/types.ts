import { maxTimeMs, type FlowRecord, type IfaceRecord } from '../../core/records/index.ts';

/** Where a datagram came from and when it arrived. */
export interface DatagramMeta {
  /** Exporter (agent) address as seen on the socket. */
  exporter: string;
  /** Receive time, epoch milliseconds. */
  receivedAt: number;
}

/** What one datagram decoded to. A malformed datagram still returns what could be read before the fault. */
export interface DecodeResult {
  flows: FlowRecord[];
  ifaces: IfaceRecord[];
  /** Reasons this datagram (or parts of it) could not be decoded; empty when all went well. */
  errors: string[];
  /** Flows whose sampling rate is the configured default because the export carried none. */
  defaultRated: number;
  /** How often each bound on exporter-controlled state acted while decoding this datagram. */
  limits: LimitCounts;
}

/** Why a bound on exporter-controlled state acted (label values of `limited_total{limit}`). */
export type LimitReason =
  | 'template_fields'
  | 'template_density'
  | 'templates_per_domain'
  | 'template_fields_total'
  | 'template_ttl'
  | 'pending_sets'
  | 'pending_bytes'
  | 'flows_per_datagram';

export type LimitCounts = Partial<Record<LimitReason, number>>;

export function countLimit(counts: LimitCounts, reason: LimitReason, n = 1): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}

/** Stable reasons for malformed or undecodable input (label values of `errors_total{error_type}`). */
export type DecodeErrorReason =
  'truncated' | 'unknown_version' | 'bad_header' | 'bad_set' | 'bad_template' | 'template_missing' | 'bad_record' | 'bad_sample';

export function emptyResult(): DecodeResult {
  return { flows: [], ifaces: [], errors: [], defaultRated: 0, limits: {} };
}

/** A decoder fault: thrown inside a decoder, caught at its boundary and turned into a counted reason. */
export class DecodeFault extends Error {
  constructor(
    readonly reason: DecodeErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeFault';
  }
}

export function need(buf: Buffer, off: number, len: number, what: string): void {
  if (off < 0 || len < 0 || off + len > buf.length) {
    throw new DecodeFault('truncated', `${what}: need ${len} bytes at offset ${off}, datagram has ${buf.length}`);
  }
}

/** Reads an unsigned big-endian integer of 1–8 bytes as a JS number (exact to 2^53). */
export function readUint(buf: Buffer, off: number, len: number): number {
  switch (len) {
    case 1:
      return buf[off]!;
    case 2:
      return (buf[off]! << 8) | buf[off + 1]!;
    case 4:
      return buf.readUInt32BE(off);
    case 8:
      return buf.readUInt32BE(off) * 4294967296 + buf.readUInt32BE(off + 4);
    default: {
      let v = 0;
      for (let i = 0; i < len && i < 8; i++) v = v * 256 + buf[off + i]!;
      return v;
    }
  }
}

/** Epoch-ms sanity range accepted by the record schema. */
export function validTime(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms <= maxTimeMs ? Math.floor(ms) : undefined;
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
