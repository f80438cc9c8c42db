/**
 * Builders of hostile NetFlow v9 / IPFIX datagrams (issue 12, defects 1 and 2), shared by the
 * hardening tests and bench/ingest/hostile.ts. Each stays within the wire format: only the sizes
 * and counts are what no real exporter sends.
 */

export type TemplatedFormat = 'netflow9' | 'ipfix';

/** Largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65_507;

export interface FieldSpec {
  id: number;
  length: number;
}

function header(format: TemplatedFormat, domain: number, sequence: number, bodyLength: number, sets: number): Buffer {
  if (format === 'ipfix') {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(10, 0);
    h.writeUInt16BE(16 + bodyLength, 2);
    h.writeUInt32BE(1_700_000_000, 4);
    h.writeUInt32BE(sequence, 8);
    h.writeUInt32BE(domain, 12);
    return h;
  }
  const h = Buffer.alloc(20);
  h.writeUInt16BE(9, 0);
  h.writeUInt16BE(Math.min(sets, 0xffff), 2);
  h.writeUInt32BE(3_600_000, 4);
  h.writeUInt32BE(1_700_000_000, 8);
  h.writeUInt32BE(sequence, 12);
  h.writeUInt32BE(domain, 16);
  return h;
}

/** One datagram of `sets` (each a complete set with its 4-byte header). */
export function datagram(format: TemplatedFormat, sets: Buffer[], domain = 0, sequence = 0): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([header(format, domain, sequence, body.length, sets.length), body]);
}

/** A template set holding one template record per entry of `templates`. */
export function templateSet(format: TemplatedFormat, templates: { id: number; fields: FieldSpec[] }[]): Buffer {
  const size = 4 + templates.reduce((n, t) => n + 4 + t.fields.length * 4, 0);
  const b = Buffer.alloc(size);
  b.writeUInt16BE(format === 'ipfix' ? 2 : 0, 0);
  b.writeUInt16BE(size, 2);
  let o = 4;
  for (const t of templates) {
    o = b.writeUInt16BE(t.id, o);
    o = b.writeUInt16BE(t.fields.length, o);
    for (const f of t.fields) {
      o = b.writeUInt16BE(f.id, o);
      o = b.writeUInt16BE(f.length, o);
    }
  }
  return b;
}

/** A data set for template `id` with `body` as its records. */
export function dataSet(id: number, body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(b.length, 2);
  body.copy(b, 4);
  return b;
}

/** Defect 1: `zeroFields` zero-length fields and one 1-byte protocol field (16,376 fill a 64 KB datagram). */
export function zeroLengthTemplate(id: number, zeroFields: number): FieldSpec[] {
  const fields: FieldSpec[] = Array.from({ length: zeroFields }, () => ({ id: 210, length: 0 })); // paddingOctets
  fields.push({ id: 4, length: 1 });
  return fields;
}

/** Most template records of `fieldsPerTemplate` 1-byte fields that fit one datagram; ids from `firstId`. */
export function templateFlood(format: TemplatedFormat, firstId: number, fieldsPerTemplate: number): Buffer {
  const perTemplate = 4 + fieldsPerTemplate * 4;
  const room = MAX_DATAGRAM - (format === 'ipfix' ? 16 : 20) - 4;
  const count = Math.max(1, Math.floor(room / perTemplate));
  const fields = Array.from({ length: fieldsPerTemplate }, (_, i) => ({ id: i % 2 === 0 ? 4 : 5, length: 1 }));
  const templates = Array.from({ length: count }, (_, i) => ({ id: 256 + ((firstId - 256 + i) % (65_536 - 256)), fields }));
  return templateSet(format, templates);
}

/** A data set of `recordLength`-byte records filling a datagram (records of 0x01 bytes). */
export function fullDataSet(format: TemplatedFormat, id: number, recordLength: number): Buffer {
  const room = MAX_DATAGRAM - (format === 'ipfix' ? 16 : 20) - 4;
  const records = Math.floor(room / recordLength);
  return dataSet(id, Buffer.alloc(records * recordLength, 1));
}
