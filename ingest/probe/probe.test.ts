import { describe, expect, it } from 'vitest';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';
import { createRegistry } from '../../core/metrics.ts';
import { SimulatedClock } from '../../core/clock.ts';
import { probeRecord } from '../../core/records/index.ts';
import { probeConfigSchema } from './config.ts';
import { createProbeAgent, streamsFromTopology } from './index.ts';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, minPacketSize, readNtp, writeNtp } from './packet.ts';
import { ProbeWindow } from './window.ts';

describe('TWAMP-Test packets', () => {
  it('round-trips NTP timestamps to well under a microsecond', () => {
    const buf = Buffer.alloc(8);
    const t = Date.UTC(2026, 10, 22, 4, 30, 0) + 123.456789;
    writeNtp(buf, 0, t);
    expect(readNtp(buf, 0)).toBeCloseTo(t, 3);
    // The NTP era starts in 1900: the seconds field of 1970-01-01 is 2,208,988,800.
    writeNtp(buf, 0, 0);
    expect(buf.readUInt32BE(0)).toBe(2_208_988_800);
  });

  it('builds RFC 5357 sender and reflector layouts', () => {
    const req = encodeRequest(0xfffffffe, 1_000_000.5, 64);
    expect(req.length).toBe(64);
    expect(decodeRequest(req)).toEqual({ seq: 0xfffffffe, sentMs: expect.closeTo(1_000_000.5, 3) });
    expect(encodeRequest(1, 0, 10).length).toBe(minPacketSize);
    const reply = encodeReply(req, 2_000_000, 2_000_000.25);
    expect(reply.length).toBe(64);
    expect(reply.subarray(28, 36)).toEqual(req.subarray(4, 12)); // sender timestamp echoed
    expect(reply.readUInt8(40)).toBe(255);
    expect(decodeReply(reply)).toEqual({
      reflectorSeq: 0xfffffffe,
      reflectorSentMs: expect.closeTo(2_000_000.25, 3),
      reflectorReceivedMs: expect.closeTo(2_000_000, 3),
      senderSeq: 0xfffffffe,
      senderSentMs: expect.closeTo(1_000_000.5, 3),
    });
    expect(decodeReply(req.subarray(0, 40))).toBeUndefined();
    expect(decodeRequest(Buffer.alloc(13))).toBeUndefined();
  });
});

describe('ProbeWindow', () => {
  it('computes loss, percentiles and jitter (mean |ΔRTT| in sequence order)', () => {
    const w = new ProbeWindow(10_000, 20_000);
    w.sent = 10;
    // Arrival order does not matter for jitter: sequence order does.
    for (const [seq, rtt] of [
      [3, 14],
      [0, 10],
      [1, 12],
      [2, 10],
      [5, 30],
      [4, 12],
      [6, 11],
      [7, 13],
    ] as const)
      w.rtts.set(seq, rtt);
    w.duplicates = 2;
    w.reordered = 1;
    const r = w.toRecord({ path_id: 'p', src_site: 'a', dst_site: 'b', class: 'realtime' });
    expect(probeRecord.check(r).ok).toBe(true);
    expect(r).toMatchObject({
      sent: 10,
      received: 8,
      loss_ratio: 0.2,
      rtt_min_ms: 10,
      rtt_max_ms: 30,
      duplicates: 2,
      reordered: 1,
      class: 'realtime',
    });
    expect(r.rtt_avg_ms).toBeCloseTo(112 / 8, 12);
    expect(r.rtt_p50_ms).toBe(12);
    // Linear interpolation between order statistics (numpy's default): 14 + 0.65 × (30 − 14).
    expect(r.rtt_p95_ms).toBeCloseTo(24.4, 9);
    // |12-10|+|10-12|+|14-10|+|12-14|+|30-12|+|11-30|+|13-11| = 2+2+4+2+18+19+2 = 49 over 7 steps
    expect(r.jitter_ms).toBeCloseTo(7, 12);
  });

  it('reports total loss with zero RTTs when nothing came back', () => {
    const w = new ProbeWindow(0, 10_000);
    w.sent = 10;
    expect(w.toRecord({ path_id: 'p', src_site: 'a', dst_site: 'b' })).toMatchObject({
      received: 0,
      loss_ratio: 1,
      rtt_p95_ms: 0,
      jitter_ms: 0,
    });
  });
});

describe('probe config and streams', () => {
  it('has valid defaults (1 s probes, 10 s windows)', () => {
    expect(probeConfigSchema.parse({})).toMatchObject({ interval_ms: 1000, window_ms: 10_000, grace_ms: 1000, streams: [] });
  });

  it('names the key of a bad setting', () => {
    expect(() =>
      createProbeAgent({ clock: new SimulatedClock(), registry: createRegistry() }, { interval_ms: 20_000, window_ms: 10_000 }),
    ).toThrow(ConfigError);
    expect(() =>
      createProbeAgent({ clock: new SimulatedClock(), registry: createRegistry() }, { interval_ms: 20_000, window_ms: 10_000 }),
    ).toThrow(/ingest\.probe\.interval_ms: interval_ms must not exceed window_ms/);
  });

  it('derives one stream per path from the topology, bound to the first tunnel address', () => {
    const topology = new Topology(loadConfig(undefined, {}).root);
    const streams = streamsFromTopology(topology, 'onprem-nyc', 862);
    expect(streams.map((s) => s.path_id)).toEqual(
      [...topology.paths.values()].filter((p) => p.from === 'onprem-nyc').map((p) => p.id),
    );
    expect(streams.find((s) => s.path_id === 'onprem-nyc.aws-use1.1')).toEqual({
      path_id: 'onprem-nyc.aws-use1.1',
      src_site: 'onprem-nyc',
      dst_site: 'aws-use1',
      source_address: '169.254.10.1',
      target_address: '169.254.10.2',
      target_port: 862,
    });
    // Two-hop path: leaves over the VPN, ends at the far end of the AWS–AWS tunnel.
    expect(streams.find((s) => s.path_id === 'onprem-nyc.aws-euc1.2')).toMatchObject({
      source_address: '172.16.1.1',
      target_address: '172.17.1.2',
    });
    const agent = createProbeAgent({ clock: new SimulatedClock(), registry: createRegistry(), topology }, { site: 'onprem-nyc' });
    expect(agent.streams).toHaveLength(streams.length);
  });
});
