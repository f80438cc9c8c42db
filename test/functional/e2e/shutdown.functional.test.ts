/**
 * Issue 11(d): every bounded demo (`npm start -- --duration …`) printed "chdb query failed: No active
 * connection available … self-heal check failed" before its summary: the actuator's self-heal loop
 * was still querying when the store closed. Stopping must end every loop before the adapters close.
 * This runs what `npm start` runs — embedded chDB, in-process bus and queue — for a short bounded
 * duration at a speed-up where the self-heal check runs every few wall milliseconds (so one is in
 * flight when the demo stops), a few times over, and reads the warnings it logged.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../../app/demo.ts';
import { createLogger } from '../../../core/log.ts';

/** Log lines at warn and above, as pino writes them (one JSON object per line). */
function capturedLog(): { log: ReturnType<typeof createLogger>; lines: () => { level: number; msg: string; err?: string }[] } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    log: createLogger({ level: 'warn', destination }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string; err?: string }),
  };
}

// The embedded defaults, whatever the functional setup exported for the other suites.
const embedded: NodeJS.ProcessEnv = { KAFKA_BROKERS: undefined, CLICKHOUSE_URL: undefined, REDIS_URL: undefined };
const runs = 2;

describe('a bounded demo stops its loops before it closes the store', () => {
  it('logs no self-heal or store-connection warning when it stops', async () => {
    const capture = capturedLog();
    for (let i = 0; i < runs; i++) {
      const summary = await runDemo({
        scenario: 'cost-pressure',
        auto: false,
        // 30 simulated minutes at 3000×: the 60 s self-heal interval is 20 ms of wall time.
        durationMs: 30 * 60_000,
        speedup: 3000,
        apiPort: 0,
        log: capture.log,
        env: embedded,
      });
      // The demo did run (the twin's flows reached the store), so the shutdown had loops to stop.
      expect(summary.simulated_hours).toBeGreaterThanOrEqual(0.5);
      expect(summary.flows_ingested).toBeGreaterThan(0);
    }
    const shutdownNoise = capture
      .lines()
      .filter((l) =>
        /self-heal check failed|No active connection|after stop\(\)|before start\(\)/i.test(`${l.msg} ${l.err ?? ''}`),
      );
    expect(shutdownNoise).toEqual([]);
  }, 240_000);
});
