import { describe, expect, it } from 'vitest';
import type { Logger } from '../../core/log.ts';
import { createRegistry, gauge } from '../../core/metrics.ts';
import {
  CapabilityCache,
  RouterTrainMismatchError,
  confirmActionPath,
  probeCapabilities,
  recheckAfter,
  type ProbedRouter,
} from './capabilities.ts';
import { VyosLockedError, VyosRejectedError, VyosUnreachableError, type RouterInfo, type VyosVersion } from './types.ts';

const URL = 'http://192.0.2.1';
const refused = () => new VyosRejectedError(URL, "'confirm' is not a valid operation", 400);

/** A router double answering the three probe calls, counting them. */
function fakeRouter(o: {
  version: string;
  train?: VyosVersion;
  confirm: () => { confirmed: boolean; message: string };
  action?: string | null;
}) {
  const calls = { info: 0, confirm: 0, returnValue: [] as string[][] };
  const state = { ...o };
  const api: ProbedRouter & { version: VyosVersion } = {
    get version() {
      return state.train ?? (/^1\.4/.test(state.version) ? '1.4' : '1.5');
    },
    info: async (): Promise<RouterInfo> => {
      calls.info++;
      return { version: state.version, train: /^1\.4/.test(state.version) ? '1.4' : '1.5', hostname: 'r', via: '/info' };
    },
    confirm: async () => {
      calls.confirm++;
      return state.confirm();
    },
    returnValue: async (path: string[]) => {
      calls.returnValue.push(path);
      return state.action ?? null;
    },
  };
  return { api, calls, state };
}

const nothingPending = () => ({ confirmed: false, message: 'No confirm pending' });

function recordingLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = { info: () => undefined, warn: (_f: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
  return { log, warnings };
}

describe('probeCapabilities', () => {
  it('a June 2025 image: "No confirm pending" means commit-confirm works; an unset action is the default reboot', async () => {
    const { api, calls } = fakeRouter({ version: '1.5-rolling-202506020019', confirm: nothingPending });
    const caps = await probeCapabilities(api);
    expect(caps).toEqual({
      version: '1.5-rolling-202506020019',
      train: '1.5',
      via: '/info',
      commitConfirm: true,
      confirmAction: 'reboot',
      confirmProbe: 'No confirm pending',
    });
    expect(calls.returnValue).toEqual([confirmActionPath]);
  });

  it('reads a configured reload action', async () => {
    const { api } = fakeRouter({ version: '1.5.0', confirm: nothingPending, action: 'reload' });
    expect((await probeCapabilities(api)).confirmAction).toBe('reload');
  });

  it('an image that refuses the confirm op (400) has no commit-confirm, and no action is read', async () => {
    const { api, calls } = fakeRouter({
      version: '1.5-rolling-202410220018',
      confirm: () => {
        throw refused();
      },
    });
    const caps = await probeCapabilities(api);
    expect(caps.commitConfirm).toBe(false);
    expect(caps.confirmAction).toBeUndefined();
    expect(caps.confirmProbe).toBe("'confirm' is not a valid operation");
    expect(calls.returnValue).toEqual([]);
  });

  it('a locked or unreachable router is no answer: the error propagates (the caller retries)', async () => {
    for (const err of [
      new VyosLockedError(URL, 'Configuration system temporarily locked due to another commit in progress', 400),
      new VyosUnreachableError(URL, 'ECONNREFUSED', false),
    ]) {
      const { api } = fakeRouter({
        version: '1.5.0',
        confirm: () => {
          throw err;
        },
      });
      await expect(probeCapabilities(api)).rejects.toBe(err);
    }
  });

  it('says so when the probe stopped a timer someone else armed', async () => {
    const { api } = fakeRouter({ version: '1.5.0', confirm: () => ({ confirmed: true, message: 'Reload timer stopped' }) });
    expect((await probeCapabilities(api)).stoppedForeignTimer).toBe(true);
  });
});

describe('recheckAfter', () => {
  it('a refused confirm op means a full probe; an unreachable router a version check; a verify failure nothing', () => {
    expect(recheckAfter(refused())).toBe('full');
    expect(recheckAfter(new Error('step 1 failed', { cause: refused() }))).toBe('full');
    expect(recheckAfter(new VyosUnreachableError(URL, 'ECONNRESET', false))).toBe('version');
    expect(recheckAfter(new VyosRejectedError(URL, 'Commit failed\n', 400))).toBeUndefined();
    expect(recheckAfter(new Error('plain'))).toBeUndefined();
  });
});

describe('CapabilityCache', () => {
  it('probes each router once', async () => {
    const cache = new CapabilityCache();
    const { api, calls } = fakeRouter({ version: '1.5.0', confirm: nothingPending });
    const [a, b] = await Promise.all([cache.of('nyc', api), cache.of('nyc', api)]);
    expect(a).toBe(b);
    await cache.of('nyc', api);
    expect(calls).toMatchObject({ info: 1, confirm: 1 });
  });

  it('after an outage it re-reads the version only; a new image is probed in full', async () => {
    const cache = new CapabilityCache();
    const r = fakeRouter({
      version: '1.5-rolling-202410220018',
      confirm: () => {
        throw refused();
      },
    });
    expect((await cache.of('fra', r.api)).commitConfirm).toBe(false);
    expect(cache.noteError('fra', new VyosUnreachableError(URL, 'ECONNREFUSED', false))).toBe(true);
    expect((await cache.of('fra', r.api)).commitConfirm).toBe(false);
    expect(r.calls).toMatchObject({ info: 2, confirm: 1 });
    // Reinstalled with a June 2025 image while it was away.
    r.state.version = '1.5-rolling-202506020019';
    r.state.confirm = nothingPending;
    cache.noteError('fra', new VyosUnreachableError(URL, 'ECONNREFUSED', false));
    expect((await cache.of('fra', r.api)).commitConfirm).toBe(true);
    expect(r.calls).toMatchObject({ info: 4, confirm: 2 });
  });

  it('a refused confirm op re-probes in full; an unrelated error changes nothing', async () => {
    const cache = new CapabilityCache();
    const r = fakeRouter({ version: '1.5.0', confirm: nothingPending });
    await cache.of('nyc', r.api);
    expect(cache.noteError('nyc', new VyosRejectedError(URL, 'Commit failed\n', 400))).toBe(false);
    await cache.of('nyc', r.api);
    expect(r.calls.confirm).toBe(1);
    r.state.confirm = () => {
      throw refused();
    };
    cache.noteError('nyc', refused());
    expect((await cache.of('nyc', r.api)).commitConfirm).toBe(false);
    expect(r.calls.confirm).toBe(2);
  });

  it('a probe that failed is not cached', async () => {
    const cache = new CapabilityCache();
    let fail = true;
    const r = fakeRouter({
      version: '1.5.0',
      confirm: () => {
        if (fail) throw new VyosUnreachableError(URL, 'no answer within 10000 ms', true);
        return nothingPending();
      },
    });
    await expect(cache.of('nyc', r.api)).rejects.toBeInstanceOf(VyosUnreachableError);
    fail = false;
    expect((await cache.of('nyc', r.api)).commitConfirm).toBe(true);
  });

  it('the answer of an armed commit corrects the action the config claimed', async () => {
    const registry = createRegistry();
    const g = gauge(registry, 'pathpilot_actuator_router_capability', 'test', ['router', 'capability']);
    const cache = new CapabilityCache({ gauge: g });
    const r = fakeRouter({ version: '1.5-rolling-202506020019', confirm: nothingPending });
    expect((await cache.of('nyc', r.api)).confirmAction).toBe('reboot');
    await cache.noteArmed('nyc', 'Initialized commit-confirm; 3 minutes to confirm before reload\n');
    expect((await cache.of('nyc', r.api)).confirmAction).toBe('reload');
    expect(r.calls.confirm).toBe(1);
    const reboot = (await g.get()).values.find((v) => v.labels.capability === 'confirm_action_reboot');
    expect(reboot?.value).toBe(0);
    await cache.noteArmed('nyc', null); // a router that said nothing changes nothing
    expect((await cache.of('nyc', r.api)).confirmAction).toBe('reload');
  });

  it('refuses a router whose train is not the configured one', async () => {
    const cache = new CapabilityCache();
    const r = fakeRouter({ version: '1.4.0', train: '1.5', confirm: nothingPending });
    await expect(cache.of('aws', r.api)).rejects.toBeInstanceOf(RouterTrainMismatchError);
    await expect(cache.of('aws', r.api)).rejects.toThrow(/reports VyOS 1\.4\.0 but its site's router\.vyos_version is 1\.5/);
  });

  it('exports each capability as a gauge and warns about a reboot action and a 1.5 image without commit-confirm', async () => {
    const registry = createRegistry();
    const g = gauge(registry, 'pathpilot_actuator_router_capability', 'test', ['router', 'capability']);
    const { log, warnings } = recordingLog();
    const cache = new CapabilityCache({ gauge: g, log });
    await cache.of('nyc', fakeRouter({ version: '1.5.0', confirm: nothingPending }).api);
    await cache.of('fra', fakeRouter({ version: '1.5.0', confirm: nothingPending, action: 'reload' }).api);
    await cache.of(
      'old',
      fakeRouter({
        version: '1.5-rolling-202410220018',
        confirm: () => {
          throw refused();
        },
      }).api,
    );
    const values = Object.fromEntries(
      (await g.get()).values.map((v) => [`${String(v.labels.router)}/${String(v.labels.capability)}`, v.value]),
    );
    expect(values).toEqual({
      'nyc/commit_confirm': 1,
      'nyc/confirm_action_reboot': 1,
      'fra/commit_confirm': 1,
      'fra/confirm_action_reboot': 0,
      'old/commit_confirm': 0,
      'old/confirm_action_reboot': 0,
    });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/action is reboot.*loses every unsaved commit.*action reload/);
    expect(warnings[1]).toMatch(/no commit-confirm over the API: rollouts use snapshot\/restore only/);
  });
});
