import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import { loadConfig } from '../core/config/index.ts';
import { Topology } from '../core/config/topology.ts';
import { Engine, type RolloutState, type RouterRollout } from './engine.ts';
import type { RouterApi } from './vyos/types.ts';

function routerState(over: Partial<RouterRollout>): RouterRollout {
  return { pre: {}, snapshots: [], applied: 0, inFlight: null, confirmPending: false, ops: {}, ...over };
}

describe('resume: the commit-confirm deadline on the engine clock', () => {
  it('names the routers whose armed timer has fired by now, and only those still pending', async () => {
    const clock = new SimulatedClock();
    const engine = new Engine({
      topology: new Topology(loadConfig(undefined, {}).root),
      routerFor: () => ({}) as RouterApi,
      lanInterface: 'eth0',
      confirmMinutes: 1,
      retry: { attempts: 1, baseMs: 0, maxMs: 0 },
      clock,
    });
    const t0 = clock.now();
    const state: RolloutState = {
      steps: [1],
      step: 0,
      phase: 'baking',
      order: ['onprem-nyc', 'aws-use1', 'onprem-fra'],
      startedAt: t0,
      routers: {
        'onprem-nyc': routerState({ confirmPending: true, confirmDeadline: t0 + 60_000 }),
        'aws-use1': routerState({}), // 1.4: no timer
        'onprem-fra': routerState({ confirmPending: true, confirmDeadline: t0 + 120_000 }),
      },
    };
    expect(engine.confirmWindowPassed(state)).toEqual([]);
    await clock.advance(60_000);
    expect(engine.confirmWindowPassed(state)).toEqual(['onprem-nyc']);
    await clock.advance(60_000);
    expect(engine.confirmWindowPassed(state)).toEqual(['onprem-nyc', 'onprem-fra']);
    state.routers['onprem-nyc']!.confirmPending = false; // confirmed before the actuator went down
    expect(engine.confirmWindowPassed(state)).toEqual(['onprem-fra']);
  });
});
