/**
 * Ready-made sinks: probe and iface records straight onto the bus (the topics ingest/probe and the
 * sFlow/poll path publish to), so `npm start` can wire the twin without a probe agent. Flow datagrams
 * go over UDP to the collector and billing files to the billing importer; those stay separate.
 */
import type { Bus, BusMessage } from '../../core/bus/types.ts';
import {
  encodeRecords,
  ifaceRecord,
  probeRecord,
  schemaHeader,
  schemaId,
  type RecordDefinition,
  type FieldMap,
  type RecordOf,
} from '../../core/records/index.ts';
import type { IfaceRecord, ProbeRecord } from '../../core/records/index.ts';

async function publish<M extends FieldMap>(
  bus: Bus,
  def: RecordDefinition<M>,
  topic: string,
  records: readonly RecordOf<M>[],
  perMessage: number,
): Promise<void> {
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
    for (let i = 0; i < list.length; i += perMessage)
      messages.push({ key, value: encodeRecords(list.slice(i, i + perMessage)), headers });
  }
  if (messages.length) await bus.publish(topic, messages);
}

/** Probe and iface sinks publishing onto `probeRecord.topic` / `ifaceRecord.topic` (tests may rename the topics). */
export function busSinks(
  bus: Bus,
  options: { recordsPerMessage?: number; topics?: { probe?: string; iface?: string } } = {},
): { onProbe(records: ProbeRecord[]): Promise<void>; onIface(records: IfaceRecord[]): Promise<void> } {
  const per = Math.max(1, options.recordsPerMessage ?? 500);
  const probeTopic = options.topics?.probe ?? probeRecord.topic;
  const ifaceTopic = options.topics?.iface ?? ifaceRecord.topic;
  return {
    onProbe: (records) => publish(bus, probeRecord, probeTopic, records, per),
    onIface: (records) => publish(bus, ifaceRecord, ifaceTopic, records, per),
  };
}
