import type { BusMessage } from '../../core/bus/types.ts';
import type { RootConfig } from '../../core/config/index.ts';
import { Topology } from '../../core/config/index.ts';
import { costRecord, encodeRecords, type CostRecord } from '../../core/records/index.ts';
import type { LinkRule } from './config.ts';
import { CsvSplitter } from './csv.ts';
import { createMapper } from './detect.ts';
import { ChunkDecoder, countLines, firstInvalidUtf8, notUtf8Error } from './encoding.ts';
import type { BillingFormat } from './formats/common.ts';
import { identityDigest, LineIdentities } from './identity.ts';
import { keepMask, type BadRow, type CostTotal } from './importer.ts';
import { createLinkMapper } from './links.ts';

/** What a worker needs to map segments of one file (all structured-clonable). */
export interface SegmentSetup {
  file: string;
  format: BillingFormat;
  header: string[];
  /** Byte encodings a segment can be cut in at LF bytes (UTF-16 is read single-threaded). */
  encoding: 'utf8' | 'latin1';
  /** line_version of lines without a version of their own. */
  importedAt: number;
  topology?: RootConfig;
  linkRules: LinkRule[];
  mapLinks: boolean;
  recordsPerMessage: number;
  maxBadRowsReported: number;
}

/**
 * One encoded message of a segment, with the identity digest of each of its records in order. Ids
 * are numbered within the segment; the reader thread renumbers lines whose identity also occurred
 * in earlier segments (see renumberSegment in parallel.ts).
 */
export interface SegmentMessage {
  key: string;
  value: Uint8Array;
  digests: string[];
}

/** The result of one segment: encoded messages in row order (grouped by key) and its statistics. */
export interface SegmentResult {
  seq: number;
  messages: SegmentMessage[];
  rows: number;
  imported: number;
  linked: number;
  bad: number;
  badRows: BadRow[];
  totals: CostTotal[];
}

/**
 * Maps whole CSV rows (a segment cut at row boundaries by the reader) to encoded cost messages: the
 * work a billing worker thread does. `firstLine` is the file line the segment starts on.
 */
export function createSegmentProcessor(setup: SegmentSetup) {
  const mapper = createMapper(setup.format, setup.header);
  const width = setup.header.length;
  const keep = keepMask(mapper.columns, width);
  const linkMapper = createLinkMapper(setup.topology ? new Topology(setup.topology) : undefined, setup.linkRules, setup.mapLinks);

  return (seq: number, text: string, firstLine: number, final: boolean): SegmentResult => {
    const result: SegmentResult = { seq, messages: [], rows: 0, imported: 0, linked: 0, bad: 0, badRows: [], totals: [] };
    const totals = new Map<string, CostTotal>();
    const byKey = new Map<string, { records: CostRecord[]; digests: string[] }>();
    const identities = new LineIdentities();
    const bad = (line: number, reason: string) => {
      result.bad++;
      if (result.badRows.length < setup.maxBadRowsReported) result.badRows.push({ file: setup.file, line, reason });
    };
    const splitter = new CsvSplitter();
    splitter.setKeep(keep);
    const onRow = (row: { fields: string[]; line: number; error?: string }) => {
      const line = firstLine + row.line - 1;
      result.rows++;
      if (row.error) return bad(line, row.error);
      if (row.fields.length !== width) return bad(line, `expected ${width} fields, found ${row.fields.length}`);
      const mapped = mapper.map(row.fields);
      if (!mapped.ok) return bad(line, mapped.reason);
      const r = mapped.record;
      const digest = identityDigest(mapped.identity);
      r.line_id = identities.nextOf(digest);
      r.line_version ??= setup.importedAt;
      const link = linkMapper(r);
      if (link) {
        r.link = link;
        result.linked++;
      }
      const key = `${r.provider}\x1f${r.category}\x1f${r.currency}`;
      let t = totals.get(key);
      if (!t)
        totals.set(
          key,
          (t = { provider: r.provider, category: r.category, currency: r.currency, cost: 0, quantity: 0, rows: 0 }),
        );
      t.cost += r.cost;
      t.quantity += r.usage_quantity;
      t.rows++;
      result.imported++;
      const k = costRecord.keyOf(r);
      let group = byKey.get(k);
      if (!group) byKey.set(k, (group = { records: [], digests: [] }));
      group.records.push(r);
      group.digests.push(digest);
    };
    splitter.push(text, onRow);
    if (final) splitter.end(onRow);
    for (const [key, { records, digests }] of byKey) {
      for (let i = 0; i < records.length; i += setup.recordsPerMessage) {
        const end = i + setup.recordsPerMessage;
        // A copy with its own ArrayBuffer, so it can be transferred (msgpackr packs into a shared buffer).
        result.messages.push({
          key,
          value: new Uint8Array(encodeRecords(records.slice(i, end))),
          digests: digests.slice(i, end),
        });
      }
    }
    result.totals = [...totals.values()];
    return result;
  };
}

/** Turns a worker's messages into bus messages with the schema header. */
export function toBusMessages(messages: SegmentResult['messages'], headers: Record<string, string>): BusMessage[] {
  return messages.map((m) => ({
    key: m.key,
    value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
    headers,
  }));
}

/**
 * Decodes a segment's bytes (cut at LF bytes, so whole characters in UTF-8 and Latin-1). Invalid
 * UTF-8 throws the importer's refusal, with the file line of the first bad byte.
 */
export function decodeSegment(setup: Pick<SegmentSetup, 'file' | 'encoding'>, bytes: Uint8Array, firstLine: number): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (setup.encoding === 'latin1') return buf.toString('latin1');
  try {
    return new ChunkDecoder(setup.file, 'utf8').decode(buf, true);
  } catch {
    const at = firstInvalidUtf8(buf, true);
    throw notUtf8Error(
      setup.file,
      firstLine + countLines(buf, Math.max(0, at)),
      at >= 0 && at < buf.length ? buf[at] : undefined,
    );
  }
}
