import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { probeRecord, type ProbeRecord } from '../../../core/records/index.ts';
import { createProbeAgent } from '../../../ingest/probe/index.ts';

const realPause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('probe windows follow the Clock', () => {
  it('sends on simulated time and closes windows on simulated time, with real UDP replies', async () => {
    const start = Date.UTC(2026, 0, 5, 0, 0, 0);
    const clock = new SimulatedClock(start);
    const registry = createRegistry();
    const reflector = createProbeAgent({ clock, registry }, { reflector: { enabled: true, listen: '127.0.0.1', port: 0 } });
    await reflector.start();
    const records: ProbeRecord[] = [];
    const agent = createProbeAgent(
      { clock, registry, onRecord: (r) => records.push(r) },
      {
        interval_ms: 1000,
        window_ms: 10_000,
        grace_ms: 1000,
        streams: [
          {
            path_id: 'sim.1',
            src_site: 'a',
            dst_site: 'b',
            source_address: '127.0.0.1',
            target_address: '127.0.0.1',
            target_port: reflector.reflectorPort()!,
          },
        ],
      },
    );
    const allAnswered = async () => {
      const m = await metricValues(registry);
      return m['pathpilot_ingest_probe_received_total'] === m['pathpilot_ingest_probe_probes_sent_total'];
    };
    try {
      await agent.start();
      // 25 simulated seconds, one probe second at a time; real time only lets the replies come back.
      for (let s = 0; s < 25; s++) {
        await clock.advance(1000);
        for (let i = 0; i < 100 && !(await allAnswered()); i++) await realPause(5);
      }
    } finally {
      await agent.stop();
      await reflector.stop();
    }
    // Windows [start, +10 s) and [+10 s, +20 s) closed at +11 s and +21 s of simulated time.
    expect(records.map((r) => [r.window_start - start, r.window_end - start])).toEqual([
      [0, 10_000],
      [10_000, 20_000],
    ]);
    for (const r of records) {
      expect(probeRecord.check(r).ok).toBe(true);
      expect(r).toMatchObject({ sent: 10, received: 10, loss_ratio: 0 });
      // RTT is real loopback time, not simulated: well under a simulated probe interval.
      expect(r.rtt_max_ms).toBeLessThan(500);
    }
  });
});
