import { describe, expect, it } from 'vitest';
import { createRegistry, createStageMetrics, metricValues } from './metrics.ts';
import { startAll, memoizeStop, type Component } from './component.ts';

describe('stage metrics', () => {
  it('gives every stage the same four series', async () => {
    const registry = createRegistry();
    const m = createStageMetrics(registry, 'pathpilot_test_stage');
    m.received.inc(3);
    m.sent.inc(2);
    m.errors.inc({ error_type: 'decode' });
    m.dropped.inc({ reason: 'buffer_full' }, 4);
    expect(await metricValues(registry)).toEqual({
      pathpilot_test_stage_received_total: 3,
      pathpilot_test_stage_sent_total: 2,
      'pathpilot_test_stage_errors_total{error_type="decode"}': 1,
      'pathpilot_test_stage_dropped_total{reason="buffer_full"}': 4,
    });
    // Asking again returns the same series instead of throwing on re-registration.
    expect(createStageMetrics(registry, 'pathpilot_test_stage').received).toBe(m.received);
  });
});

describe('component lifecycle', () => {
  it('stops started components in reverse when a later one fails to start', async () => {
    const events: string[] = [];
    const make = (name: string, failStart = false): Component => ({
      name,
      start: async () => {
        if (failStart) throw new Error(`${name} failed`);
        events.push(`start ${name}`);
      },
      stop: async () => {
        events.push(`stop ${name}`);
      },
    });
    await expect(startAll([make('a'), make('b'), make('c', true)])).rejects.toThrow('c failed');
    expect(events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('memoizes stop', async () => {
    let calls = 0;
    const stop = memoizeStop(async () => {
      calls++;
    });
    await Promise.all([stop(), stop()]);
    await stop();
    expect(calls).toBe(1);
  });
});
