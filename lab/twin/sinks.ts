/**
 * Ready-made sinks: probe and iface records straight onto the bus (the topics ingest/probe and the
 * sFlow/poll path publish to), so `npm start` can wire the twin without a probe agent. Flow datagrams
 * go over UDP to the collector and billing files to the billing importer; those stay separate.
 */
import type { Bus } from '../../core/bus/types.ts';
import { publishRecords } from '../../core/bus/publish.ts';
import { ifaceRecord, probeRecord, type IfaceRecord, type ProbeRecord } from '../../core/records/index.ts';

/** Probe and iface sinks publishing onto `probeRecord.topic` / `ifaceRecord.topic` (tests may rename the topics). */
export function busSinks(
  bus: Bus,
  options: { recordsPerMessage?: number; topics?: { probe?: string; iface?: string } } = {},
): { onProbe(records: ProbeRecord[]): Promise<void>; onIface(records: IfaceRecord[]): Promise<void> } {
  const per = Math.max(1, options.recordsPerMessage ?? 500);
  const probeTopic = options.topics?.probe ?? probeRecord.topic;
  const ifaceTopic = options.topics?.iface ?? ifaceRecord.topic;
  return {
    onProbe: async (records) => {
      await publishRecords(bus, probeRecord, records, { recordsPerMessage: per, topic: probeTopic });
    },
    onIface: async (records) => {
      await publishRecords(bus, ifaceRecord, records, { recordsPerMessage: per, topic: ifaceTopic });
    },
  };
}
