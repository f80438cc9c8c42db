import type { CostCategory, CostRecord } from '../../../core/records/index.ts';
import type { Transfer } from '../classify.ts';
import { identitySeparator } from '../identity.ts';

/** Source formats this importer reads (the values of costRecord.source_format it produces). */
export const billingFormats = ['focus', 'aws-cur', 'aws-cur2', 'gcp', 'azure'] as const;
export type BillingFormat = (typeof billingFormats)[number];

/** A mapped line: its record (line_id still empty) and its identity text, or the reason it cannot be mapped. */
export type MapResult = { ok: true; record: CostRecord; identity: string } | { ok: false; reason: string };

/** Maps one row (fields in header order) to a cost record, or gives the reason it cannot. */
export interface RowMapper {
  readonly format: BillingFormat;
  /** Column indexes the mapper reads (the reader may skip materializing the others). */
  readonly columns: readonly number[];
  map(fields: readonly string[]): MapResult;
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

const decimalPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/;

/**
 * Parses a decimal number strictly: digits with an optional sign, fraction and exponent (`1.5`,
 * `-0.25`, `4.2E-7`: CUR and BigQuery write tiny amounts that way). Everything `Number()` would
 * also take is refused: hex (`0x10`), binary/octal, `Infinity`, `1_000`, spaces, a comma decimal.
 * '' gives `fallback`; anything else unparsable gives NaN.
 */
export function num(s: string, fallback = 0): number {
  if (s === '') return fallback;
  return decimalPattern.test(s) ? Number(s) : NaN;
}

const timeCache = new Map<string, number>();

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const isDigit = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};
const fixedDigits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/** Days in a month (1-12) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch ms of a calendar date and time, or NaN unless every part is in range (no rollover: 02-30 is not 03-01). */
function utcOf(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

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
  return utcOf(
    digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3),
    digit(s, 5) * 10 + digit(s, 6),
    digit(s, 8) * 10 + digit(s, 9),
    digit(s, 11) * 10 + digit(s, 12),
    digit(s, 14) * 10 + digit(s, 15),
    digit(s, 17) * 10 + digit(s, 18),
    ms,
  );
}

// ISO 8601 date, optional time (seconds and fraction optional), optional zone; the US M/D/YYYY date.
const isoPattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z| UTC|[+-]\d{2}:?\d{2})?$/;
const usPattern = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

function slowUtc(text: string): number {
  const t = text.trim();
  const us = usPattern.exec(t);
  if (us) return utcOf(Number(us[3]), Number(us[1]), Number(us[2]), 0, 0, 0, 0);
  const m = isoPattern.exec(t);
  if (!m) return NaN;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const local = utcOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
  const zone = m[8];
  if (!zone || zone === 'Z' || zone === ' UTC') return local;
  const oh = Number(zone.slice(1, 3));
  const om = Number(zone.slice(-2));
  if (oh > 23 || om > 59) return NaN;
  return local - (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/**
 * Epoch milliseconds from the timestamp spellings billing exports use: ISO 8601 with or without a
 * zone (no zone means UTC), `2024-09-01 00:00:00`, BigQuery's `2024-09-01 07:00:00 UTC`, a bare
 * date, and Azure's `09/01/2024`. Strict: a date must exist as written (`2024-02-30` and
 * `2023-02-29` are NaN, never rolled over into March); NaN when unparsable.
 */
export function parseTime(s: string): number {
  const fast = fastUtc(s);
  if (fast !== undefined) return fast;
  const hit = timeCache.get(s);
  if (hit !== undefined) return hit;
  const ms = slowUtc(s);
  if (timeCache.size > 50_000) timeCache.clear();
  timeCache.set(s, ms);
  return ms;
}

/**
 * Reads the identity text of a line: its format and the values of its identity columns (absent
 * columns read as ''). One reused array joined once per row: no intermediate strings to collect.
 */
export function identityReader(format: BillingFormat, columns: readonly number[]): (fields: readonly string[]) => string {
  const parts = new Array<string>(columns.length + 1).fill('');
  parts[0] = format;
  return (fields) => {
    for (let k = 0; k < columns.length; k++) parts[k + 1] = val(fields, columns[k]!);
    return parts.join(identitySeparator);
  };
}

export interface CostParts {
  format: BillingFormat;
  /** What makes the line this line (identityOf()); its id is derived from it by the importer. */
  identity: string;
  /** The provider's version of the line (epoch ms, e.g. GCP export_time); the import time when absent. */
  version?: number;
  start: number;
  end: number;
  provider: string;
  account: string;
  service: string;
  region: string;
  transfer: Transfer | undefined;
  /** The quantity as written ('' reads as 0: not every line has usage). */
  quantity: string;
  unit: string;
  /** The cost as written (required). */
  cost: string;
  /** Added to the cost (GCP credits). */
  costAdjustment?: number;
  currency: string;
  resource: string;
}

const shown = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

/** Checks the parts and assembles the record (optional fields only when known); line_id is left to the importer. */
export function buildRecord(p: CostParts): MapResult {
  if (!Number.isFinite(p.start)) return { ok: false, reason: 'usage start is missing or not a valid timestamp' };
  if (!Number.isFinite(p.end)) return { ok: false, reason: 'usage end is missing or not a valid timestamp' };
  if (p.start < 0 || p.end < p.start) return { ok: false, reason: 'usage end is before usage start' };
  if (p.cost === '') return { ok: false, reason: 'cost is empty' };
  const cost = num(p.cost) + (p.costAdjustment ?? 0);
  if (!Number.isFinite(cost)) return { ok: false, reason: `cost ${shown(p.cost)} is not a decimal number` };
  const quantity = num(p.quantity);
  if (!Number.isFinite(quantity)) return { ok: false, reason: `usage quantity ${shown(p.quantity)} is not a decimal number` };
  if (p.provider === '') return { ok: false, reason: 'provider is empty' };
  if (p.currency === '') return { ok: false, reason: 'currency is empty' };
  const category: CostCategory = p.transfer?.category ?? 'other';
  const record: CostRecord = {
    line_id: '',
    usage_start: p.start,
    usage_end: p.end,
    provider: p.provider,
    category,
    usage_quantity: quantity,
    cost,
    currency: p.currency,
    source_format: p.format,
  };
  if (p.version !== undefined) record.line_version = p.version;
  if (p.account) record.account = p.account;
  if (p.service) record.service = p.service;
  const src = p.transfer ? p.transfer.src : p.region;
  if (src) record.src_region = src;
  else if (p.region && !p.transfer?.dst) record.src_region = p.region;
  if (p.transfer?.dst) record.dst_region = p.transfer.dst;
  if (p.unit) record.usage_unit = p.unit;
  if (p.resource) record.resource_id = p.resource.length > 4096 ? p.resource.slice(0, 4096) : p.resource;
  return { ok: true, record, identity: p.identity };
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
