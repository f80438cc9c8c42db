import { describe, expect, it } from 'vitest';
import { buildApp } from './server.ts';
import { TokenAuthenticator } from './auth.ts';
import { createRegistry } from '../metrics.ts';
import { LoopTracker, StatusBoard, startAll, type Component, type LoopFailure } from '../component.ts';

/** A component with one tracked loop that dies when `kill` is called, and a switchable dependency. */
function looping(name: string) {
  const fatal: LoopFailure[] = [];
  const loops = new LoopTracker(name, { onFatal: (f) => fatal.push(f) });
  let kill: (err: Error) => void = () => {};
  let reachable = true;
  const component: Component = {
    name,
    start: async () => {
      void loops.track('tick', () => new Promise<void>((_resolve, reject) => (kill = reject)));
    },
    stop: async () => {
      loops.stopping();
      kill(new Error('stopped'));
      await loops.settled();
    },
    health: () => loops.health(),
    ready: async () => (reachable ? { ok: true } : { ok: false, detail: 'bus not connected' }),
  };
  return {
    component,
    fatal,
    die: async (err: Error) => {
      kill(err);
      await loops.settled();
    },
    setReachable: (v: boolean) => (reachable = v),
  };
}

async function serve(status: StatusBoard, storeUp: () => boolean = () => true) {
  return buildApp({
    registry: createRegistry(),
    auth: new TokenAuthenticator([]),
    status,
    health: [{ name: 'store', check: async () => storeUp() }],
  });
}

describe('/healthz and /readyz', () => {
  it('report every component by name; a dead loop fails liveness with 503 and reaches onFatal', async () => {
    const sink = looping('sink');
    const optimizer = looping('optimizer');
    const status = new StatusBoard().watch([sink.component, optimizer.component]);
    const stop = await startAll([sink.component, optimizer.component], status);
    const app = await serve(status);
    try {
      const healthy = await app.inject('/healthz');
      expect(healthy.statusCode).toBe(200);
      expect(healthy.json()).toEqual({ status: 'ok', components: { sink: { ok: true }, optimizer: { ok: true } } });

      await optimizer.die(new Error('LP solver crashed'));
      const failed = await app.inject('/healthz');
      expect(failed.statusCode).toBe(503);
      expect(failed.json().components.sink).toEqual({ ok: true });
      expect(failed.json().components.optimizer.ok).toBe(false);
      expect(failed.json().components.optimizer.detail).toContain('LP solver crashed');
      expect(optimizer.fatal).toEqual([{ component: 'optimizer', loop: 'tick', error: 'LP solver crashed' }]);
      expect((await app.inject('/readyz')).statusCode).toBe(503);
    } finally {
      await stop();
      await app.close();
    }
  });

  it('readiness needs every component started, ready, and every dependency check passing', async () => {
    const sink = looping('sink');
    const api = looping('api');
    const status = new StatusBoard().watch([sink.component, api.component]);
    let storeUp = true;
    const app = await serve(status, () => storeUp);
    try {
      const before = await app.inject('/readyz');
      expect(before.statusCode).toBe(503);
      expect(before.json().components.sink).toEqual({ ok: false, detail: 'not started' });

      const stop = await startAll([sink.component, api.component], status);
      expect((await app.inject('/readyz')).json()).toEqual({
        status: 'ok',
        components: { sink: { ok: true }, api: { ok: true } },
        checks: { store: true },
      });

      sink.setReachable(false);
      const unreachable = await app.inject('/readyz');
      expect(unreachable.statusCode).toBe(503);
      expect(unreachable.json().components.sink).toEqual({ ok: false, detail: 'bus not connected' });
      // Not ready is not dead: liveness stays ok.
      expect((await app.inject('/healthz')).statusCode).toBe(200);

      sink.setReachable(true);
      storeUp = false;
      const storeDown = await app.inject('/readyz');
      expect(storeDown.statusCode).toBe(503);
      expect(storeDown.json().checks).toEqual({ store: false });

      await stop();
      expect((await app.inject('/readyz')).json().components.api).toEqual({ ok: false, detail: 'not started' });
      // A loop ending because its component stopped is not a death.
      expect(sink.fatal).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
