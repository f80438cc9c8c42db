/**
 * Issue 11(d), at the unit level: stop() must not return while a self-heal pass is still querying the
 * store, because the app closes the store right after it (components stop in reverse start order).
 * Before the fix every bounded demo printed "chdb query failed: No active connection available …
 * self-heal check failed". Here the guard data stands in for the store: its first answer comes after a
 * short delay, and fails like a closed chDB once "the app" has closed it, i.e. as soon as stop() returned.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import { createLogger } from '../core/log.ts';
import { MemoryQueue } from '../core/queue/memory.ts';
import type { WindowComparison } from '../analytics/queries/types.ts';
import type { GuardData } from './guard/index.ts';
import { createActuator } from './index.ts';
import { testRoot } from './testing.ts';
import type { RouterApi } from './vyos/types.ts';

describe('actuator stop', () => {
  it('waits for the self-heal pass in flight, so it never queries a closed store', async () => {
    let logged = '';
    const log = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged += chunk.toString('utf8');
          done();
        },
      }),
    });
    let storeClosed = false;
    let queries = 0;
    let passStarted: () => void = () => {};
    const firstQuery = new Promise<void>((resolve) => (passStarted = resolve));
    const guardData: GuardData = {
      async compare(): Promise<WindowComparison> {
        // The pass's first query is slow enough for stop() to arrive during it.
        if (queries++ === 0) {
          passStarted();
          await new Promise((r) => setTimeout(r, 30));
        }
        if (storeClosed) throw new Error('chdb query failed: No active connection available');
        return { current: null, baseline: null, change: null };
      },
    };
    // Routers without WAN rules: the primary path carries each pair.
    const routerFor = () => ({ showConfig: async () => null }) as unknown as RouterApi;
    const clock = new SimulatedClock();
    const queue = new MemoryQueue();
    await queue.start();
    const actuator = createActuator({ root: testRoot(), queue, clock, routerFor, guardData, log }, { self_heal_interval_s: 60 });
    await actuator.start();
    // The next self-heal pass begins; stop while it is querying.
    void clock.advance(61_000);
    await firstQuery;
    await actuator.stop();
    storeClosed = true;
    const queriesAtStop = queries;
    await new Promise((r) => setTimeout(r, 100));
    await queue.stop();

    expect(queriesAtStop).toBeGreaterThan(1); // the pass ran to its end before stop() returned
    expect(queries).toBe(queriesAtStop); // and nothing queried after it
    expect(logged).not.toMatch(/self-heal check failed|No active connection/);
  });
});
