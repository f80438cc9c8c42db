import { describe, expect, it } from 'vitest';
import { LoopTracker, type Component } from '../core/component.ts';
import { createLogger } from '../core/log.ts';
import { runUntilSignal, Supervisor } from './runtime.ts';

describe('runUntilSignal', () => {
  it('stops every component in reverse and returns 1 when a background loop dies', async () => {
    const supervisor = new Supervisor();
    const events: string[] = [];
    const plain = (name: string): Component => ({
      name,
      start: async () => void events.push(`start ${name}`),
      stop: async () => void events.push(`stop ${name}`),
    });
    const loops = new LoopTracker('optimizer', { onFatal: supervisor.onFatal });
    const dying: Component = {
      name: 'optimizer',
      start: async () => {
        events.push('start optimizer');
        void loops.track('schedule', async () => {
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('solver state corrupt');
        });
      },
      stop: async () => {
        loops.stopping();
        events.push('stop optimizer');
      },
      health: () => loops.health(),
    };
    const code = await Promise.race([
      runUntilSignal([plain('store'), dying, plain('api')], createLogger({ level: 'silent' }), supervisor),
      new Promise<string>((r) => setTimeout(() => r('timed out'), 5000)),
    ]);
    expect(code).toBe(1);
    expect(events).toEqual(['start store', 'start optimizer', 'start api', 'stop api', 'stop optimizer', 'stop store']);
    expect(supervisor.failed()).toEqual({ component: 'optimizer', loop: 'schedule', error: 'solver state corrupt' });
    expect(supervisor.status.liveness().components.optimizer?.ok).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
