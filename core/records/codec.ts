import { Packr } from 'msgpackr';

/**
 * Kafka message encoding, defined once: a message carries a batch of records of one kind as a
 * MessagePack array (batching keeps the collector above 100k flows/s through kafkajs). Header
 * `pp-schema` names the record and version so a consumer can reject what it does not understand.
 */
const packr = new Packr({ useRecords: false, moreTypes: false });

export const schemaHeader = 'pp-schema';

export function encodeRecords(records: readonly object[]): Buffer {
  return packr.pack(records);
}

/** Decodes a message body; throws on anything that is not a MessagePack array. */
export function decodeRecords(body: Buffer): unknown[] {
  const value = packr.unpack(body) as unknown;
  if (!Array.isArray(value)) throw new Error('message body is not a record batch (MessagePack array expected)');
  return value;
}

export function schemaId(def: { name: string; version: number }): string {
  return `${def.name}.v${def.version}`;
}
