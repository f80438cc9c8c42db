import * as crypto from 'node:crypto';
import type { CostCategory, CostRecord } from '../../../core/records/index.ts';
import type { Transfer } from '../classify.ts';

/** Source formats this importer reads (the values of costRecord.source_format it produces). */
export const billingFormats = ['focus', 'aws-cur', 'aws-cur2', 'gcp', 'azure'] as const;
export type BillingFormat = (typeof billingFormats)[number];

export type MapResult = { ok: true; record: CostRecord } | { ok: false; reason: string };

/** Maps one row (fields in header order) to a cost record, or gives the reason it cannot. */
export interface RowMapper {
  readonly format: BillingFormat;
  /** Column indexes the mapper reads (the reader may skip materializing the others). */
  readonly columns: readonly number[];
  /** `raw` is the row's text as read; it feeds the deterministic line id. */
  map(fields: readonly string[], raw: string): MapResult;
}

/** Thrown when a file's header lacks a column the format requires. */
export class MissingColumnsError extends Error {
  constructor(format: string, missing: string[]) {
    super(`not a ${format} file: missing column(s) ${missing.join(', ')}`);
    this.name = 'MissingColumnsError';
  }
}

/** Case-insensitive column lookup over a header; each lookup takes alternatives, first found wins. */
export class Columns {
  private readonly index = new Map<string, number>();
  private readonly missing: string[] = [];
  /** Indexes looked up so far: the columns the mapper reads. */
  readonly used = new Set<number>();

  constructor(
    readonly format: string,
    header: readonly string[],
  ) {
    header.forEach((name, i) => {
      const key = name.trim().toLowerCase();
      if (!this.index.has(key)) this.index.set(key, i);
    });
  }

  has(name: string): boolean {
    return this.index.has(name.toLowerCase());
  }

  /** Index of the first present alternative, or -1. */
  opt(...names: string[]): number {
    for (const n of names) {
      const i = this.index.get(n.toLowerCase());
      if (i !== undefined) {
        this.used.add(i);
        return i;
      }
    }
    return -1;
  }

  /** Like opt(), but records the column as missing; call check() once all are looked up. */
  req(...names: string[]): number {
    const i = this.opt(...names);
    if (i < 0) this.missing.push(names.join('|'));
    return i;
  }

  check(): void {
    if (this.missing.length > 0) throw new MissingColumnsError(this.format, this.missing);
  }
}

/** A field's value; `NULL` (as FOCUS samples spell SQL nulls) and absent columns read as ''. */
export function val(fields: readonly string[], i: number): string {
  if (i < 0) return '';
  const v = fields[i];
  if (v === undefined || v === 'NULL' || v === 'null') return '';
  return v;
}

/** Parses a number; '' gives `fallback`, anything unparsable gives NaN. */
export function num(s: string, fallback = 0): number {
  if (s === '') return fallback;
  return Number(s);
}

const timeCache = new Map<string, number>();

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const isDigit = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};
const fixedDigits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/**
 * `YYYY-MM-DD[T ]HH:MM:SS`, optionally with a fraction, then nothing, `Z`, ` UTC` or `+00:00`: read
 * straight from the character codes (the hot path of every import). Undefined for anything else.
 */
function fastUtc(s: string): number | undefined {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return undefined;
  }
  const sep = s.charCodeAt(10);
  if (sep !== 32 && sep !== 84) return undefined;
  for (let k = 0; k < fixedDigits.length; k++) if (!isDigit(s, fixedDigits[k]!)) return undefined;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    let scale = 100;
    i++;
    while (i < s.length && isDigit(s, i)) {
      ms += digit(s, i) * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
  }
  if (i < s.length) {
    const rest = s.slice(i);
    if (rest !== 'Z' && rest !== ' UTC' && rest !== '+00:00' && rest !== '+0000') return undefined;
  }
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return NaN;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/**
 * Epoch milliseconds from the timestamp spellings billing exports use: ISO 8601 with or without a
 * zone (no zone means UTC), `2024-09-01 00:00:00`, BigQuery's `2024-09-01 07:00:00 UTC`, a bare
 * date, and Azure's `09/01/2024`. NaN when unparsable.
 */
export function parseTime(s: string): number {
  const fast = fastUtc(s);
  if (fast !== undefined) return fast;
  const hit = timeCache.get(s);
  if (hit !== undefined) return hit;
  let t = s.trim();
  let ms = NaN;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (us) ms = Date.UTC(Number(us[3]), Number(us[1]) - 1, Number(us[2]));
  else if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    if (t.endsWith(' UTC')) t = t.slice(0, -4);
    t = t.replace(' ', 'T');
    if (t.length === 10) t += 'T00:00:00';
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(t)) t += 'Z';
    ms = Date.parse(t);
  }
  if (timeCache.size > 50_000) timeCache.clear();
  timeCache.set(s, ms);
  return ms;
}

// One-shot hashing (Node >= 20.12) avoids a Hash object per row; older runtimes use createHash.
const sha1Hex: (data: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: string, enc: 'hex'): string }).hash('sha1', data, 'hex')
    : (data) => crypto.createHash('sha1').update(data).digest('hex');

/**
 * Deterministic line id: sha1 of the row's text, 128 bits in hex. The same row
 * imported twice gets the same id, so a ReplacingMergeTree on line_id replaces instead of double
 * counting. `raw` is the row as read (CSV line, JSON line), which includes its billing period.
 */
export function lineId(raw: string): string {
  // Only the row text is hashed: rows of different formats cannot coincide (their columns differ),
  // and prefixing the format would copy every row once more.
  return sha1Hex(raw).slice(0, 32);
}

export interface CostParts {
  format: BillingFormat;
  /** The row's text as read: the input of the line id. */
  raw: string;
  start: number;
  end: number;
  provider: string;
  account: string;
  service: string;
  region: string;
  transfer: Transfer | undefined;
  quantity: number;
  unit: string;
  cost: number;
  currency: string;
  resource: string;
}

/** Checks the parts and assembles the record (optional fields only when known). */
export function buildRecord(p: CostParts): MapResult {
  if (!Number.isFinite(p.start)) return { ok: false, reason: 'usage start is missing or not a timestamp' };
  if (!Number.isFinite(p.end)) return { ok: false, reason: 'usage end is missing or not a timestamp' };
  if (p.start < 0 || p.end < p.start) return { ok: false, reason: 'usage end is before usage start' };
  if (!Number.isFinite(p.cost)) return { ok: false, reason: 'cost is not a number' };
  if (!Number.isFinite(p.quantity)) return { ok: false, reason: 'usage quantity is not a number' };
  if (p.provider === '') return { ok: false, reason: 'provider is empty' };
  if (p.currency === '') return { ok: false, reason: 'currency is empty' };
  const category: CostCategory = p.transfer?.category ?? 'other';
  const record: CostRecord = {
    line_id: lineId(p.raw),
    usage_start: p.start,
    usage_end: p.end,
    provider: p.provider,
    category,
    usage_quantity: p.quantity,
    cost: p.cost,
    currency: p.currency,
    source_format: p.format,
  };
  if (p.account) record.account = p.account;
  if (p.service) record.service = p.service;
  const src = p.transfer ? p.transfer.src : p.region;
  if (src) record.src_region = src;
  else if (p.region && !p.transfer?.dst) record.src_region = p.region;
  if (p.transfer?.dst) record.dst_region = p.transfer.dst;
  if (p.unit) record.usage_unit = p.unit;
  if (p.resource) record.resource_id = p.resource.length > 4096 ? p.resource.slice(0, 4096) : p.resource;
  return { ok: true, record };
}

/** Provider names as FOCUS spells them (`AWS`, `Microsoft`, `Google Cloud`…) → pathpilot's ids. */
export function normalizeProvider(name: string): string {
  const n = name.trim().toLowerCase();
  if (n === 'aws' || n.startsWith('amazon')) return 'aws';
  if (n === 'microsoft' || n.includes('azure')) return 'azure';
  if (n.startsWith('google') || n === 'gcp') return 'gcp';
  if (n.startsWith('alibaba')) return 'alibaba';
  return n;
}
