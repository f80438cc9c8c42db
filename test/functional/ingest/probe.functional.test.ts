import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../../core/bus/index.ts';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { decodeRecords, probeRecord, type ProbeRecord } from '../../../core/records/index.ts';
import { createProbeAgent } from '../../../ingest/probe/index.ts';
import { requireService, uniqueName } from '../../support/services.ts';

interface Impairments {
  /** One-way delay added to every packet, both directions (ms). */
  baseDelayMs: number;
  drop: Set<number>;
  duplicate: Set<number>;
  /** Extra delay of the request with this sequence number (ms). */
  delay: Map<number, number>;
}

/**
 * A tiny UDP impairment relay on loopback, between the sender and the reflector: it drops, delays
 * and duplicates chosen requests by their TWAMP sequence number (the first 4 bytes), and delays
 * every packet by a base amount. No netem needed.
 */
async function startRelay(target: { address: string; port: number }, rules: Impairments) {
  const bind = async (s: Socket) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  await bind(front);
  await bind(back);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  let client: { address: string; port: number } | undefined;
  let forwarded = 0;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    const seq = msg.readUInt32BE(0);
    if (rules.drop.has(seq)) return;
    const delay = rules.baseDelayMs + (rules.delay.get(seq) ?? 0);
    const copies = rules.duplicate.has(seq) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      later(delay + i, () => {
        forwarded++;
        back.send(msg, target.port, target.address);
      });
    }
  });
  back.on('message', (msg) => {
    const to = client;
    if (to) later(rules.baseDelayMs, () => front.send(msg, to.port, to.address));
  });
  return {
    port: front.address().port,
    forwarded: () => forwarded,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all([front, back].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('probe sender + reflector over real UDP on loopback', () => {
  it('counts loss, duplicates, reordering and late replies, and measures RTT through an impairment relay', async () => {
    const registry = createRegistry();
    const reflectorAgent = createProbeAgent(
      { clock: new RealClock(), registry },
      { reflector: { enabled: true, listen: '127.0.0.1', port: 0 } },
    );
    await reflectorAgent.start();
    const rules: Impairments = {
      baseDelayMs: 3,
      drop: new Set([3, 4, 30]),
      duplicate: new Set([10]),
      delay: new Map([
        [15, 300], // overtaken by the next probes: reordered, and the largest RTT
        [20, 1600], // longer than window + grace: arrives after its window closed, late, never received
      ]),
    };
    const relay = await startRelay({ address: '127.0.0.1', port: reflectorAgent.reflectorPort()! }, rules);
    const records: ProbeRecord[] = [];
    const agent = createProbeAgent(
      { clock: new RealClock(), registry, onRecord: (r) => records.push(r) },
      {
        interval_ms: 20,
        window_ms: 1000,
        grace_ms: 300,
        packet_size: 64,
        streams: [
          {
            path_id: 'lab.a-b.1',
            src_site: 'site-a',
            dst_site: 'site-b',
            source_address: '127.0.0.1',
            target_address: '127.0.0.1',
            target_port: relay.port,
          },
        ],
      },
    );
    try {
      await agent.start();
      // Run until every impaired probe (seq <= 30) sits in a closed window, and the late reply came.
      const sentSoFar = () => records.reduce((n, r) => n + r.sent, 0);
      await waitFor(() => sentSoFar() > 35, 15_000);
      // Seq 20's reply (+1.6 s) lands after its window closed and before the third window closes.
      await waitFor(() => records.length >= 3, 10_000);
    } finally {
      await agent.stop();
      await relay.close();
      await reflectorAgent.stop();
    }
    for (const r of records) expect(probeRecord.check(r)).toMatchObject({ ok: true });
    // Windows are consecutive, aligned and of the configured length.
    for (const [i, r] of records.entries()) {
      expect(r.window_end - r.window_start).toBe(1000);
      expect(r.window_start % 1000).toBe(0);
      if (i > 0) expect(r.window_start).toBe(records[i - 1]!.window_end);
    }
    const sent = records.reduce((n, r) => n + r.sent, 0);
    const received = records.reduce((n, r) => n + r.received, 0);
    const sum = (k: 'duplicates' | 'reordered') => records.reduce((n, r) => n + (r[k] ?? 0), 0);
    expect(received).toBe(sent - 3 /* dropped */ - 1 /* late */);
    expect(sum('duplicates')).toBe(1);
    expect(sum('reordered')).toBe(1);
    const m = await metricValues(registry);
    expect(m['pathpilot_ingest_probe_late_replies_total']).toBe(1);
    expect(m['pathpilot_ingest_probe_probes_sent_total']).toBeGreaterThanOrEqual(sent);
    expect(m['pathpilot_ingest_probe_reflected_total']).toBeGreaterThanOrEqual(received + 1);

    const first = records[0]!;
    expect(first.loss_ratio).toBeCloseTo((first.sent - first.received) / first.sent, 12);
    expect(first.loss_ratio).toBeGreaterThan(0);
    // RTT: two 3 ms relay hops at least; seq 15's extra 300 ms shows in its window's max.
    const withSlow = records.find((r) => r.rtt_max_ms >= 300)!;
    expect(withSlow).toBeDefined();
    expect(withSlow.rtt_max_ms).toBeLessThan(300 + 6 + 300);
    for (const r of records.filter((x) => x.received > 0)) {
      expect(r.rtt_min_ms).toBeGreaterThanOrEqual(3);
      expect(r.rtt_min_ms).toBeLessThanOrEqual(r.rtt_p50_ms);
      expect(r.rtt_p50_ms).toBeLessThanOrEqual(r.rtt_p95_ms);
      expect(r.rtt_p95_ms).toBeLessThanOrEqual(r.rtt_max_ms);
      expect(r.rtt_p50_ms).toBeLessThan(100); // 6 ms of relay delay; a loaded machine adds scheduling delay, not 100 ms at the median
    }
    expect(withSlow.jitter_ms).toBeGreaterThan(0);
  });

  it('publishes probe records onto the bus (real Kafka), keyed by path', async () => {
    const brokers = requireService('kafka').split(',');
    const registry = createRegistry();
    const bus = createBus({ kind: 'kafka', brokers }, { registry });
    await bus.start();
    const topic = uniqueName('probe');
    const agent = createProbeAgent(
      { clock: new RealClock(), registry, bus, topic },
      {
        interval_ms: 10,
        window_ms: 200,
        grace_ms: 50,
        reflector: { enabled: true, listen: '127.0.0.1', port: 0 },
        streams: [],
      },
    );
    const received: { key?: string; record: ProbeRecord }[] = [];
    const sub = await bus.subscribe({
      group: uniqueName('probe_test'),
      topics: [topic],
      fromBeginning: true,
      handler: async (b) => {
        for (const msg of b.messages)
          for (const r of decodeRecords(msg.value)) received.push({ key: msg.key, record: probeRecord.parse(r) });
      },
    });
    await agent.start();
    const sender = createProbeAgent(
      { clock: new RealClock(), registry, bus, topic },
      {
        interval_ms: 10,
        window_ms: 200,
        grace_ms: 50,
        streams: [
          {
            path_id: 'p.1',
            src_site: 'a',
            dst_site: 'b',
            source_address: '127.0.0.1',
            target_address: '127.0.0.1',
            target_port: agent.reflectorPort()!,
          },
        ],
      },
    );
    try {
      await sender.start();
      await waitFor(() => received.length >= 2, 20_000);
    } finally {
      await sender.stop();
      await agent.stop();
      await sub.stop();
      await bus.deleteTopics([topic]);
      await bus.stop();
    }
    expect(received[0]!.key).toBe('p.1');
    expect(received[0]!.record).toMatchObject({ path_id: 'p.1', src_site: 'a', dst_site: 'b', loss_ratio: 0 });
    expect(received[0]!.record.received).toBe(received[0]!.record.sent);
    expect(received[0]!.record.sent).toBeGreaterThan(10);
  });
});
