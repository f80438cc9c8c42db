import type { Bus, BusMessage } from './types.ts';
import { encodeRecords, schemaHeader, schemaId, type FieldMap, type RecordDefinition, type RecordOf } from '../records/index.ts';

/**
 * Publishes records of one kind onto `def.topic`: grouped by the definition's key (so per-key order
 * holds on one partition), `recordsPerMessage` records per MessagePack message, header
 * `pp-schema: <name>.v<version>`. Resolves once the bus accepted every message. Returns the number
 * of messages sent. `topic` overrides `def.topic` (tests use unique topics). Shared by ingest and the lab's twin.
 */
export async function publishRecords<M extends FieldMap>(
  bus: Bus,
  def: RecordDefinition<M>,
  records: readonly RecordOf<M>[],
  options: { recordsPerMessage?: number; topic?: string } = {},
): Promise<number> {
  if (records.length === 0) return 0;
  const perMessage = Math.max(1, options.recordsPerMessage ?? 1000);
  const byKey = new Map<string, RecordOf<M>[]>();
  for (const r of records) {
    const key = def.keyOf(r);
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(r);
  }
  const headers = { [schemaHeader]: schemaId(def) };
  const messages: BusMessage[] = [];
  for (const [key, list] of byKey) {
    for (let i = 0; i < list.length; i += perMessage) {
      messages.push({ key, value: encodeRecords(list.slice(i, i + perMessage)), headers });
    }
  }
  await bus.publish(options.topic ?? def.topic, messages);
  return messages.length;
}
