import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { loadConfig, Topology } from '../../core/config/index.ts';
import { ConfigError } from '../../core/errors.ts';
import { createVyosLabComponent } from './index.ts';

const topology = new Topology(loadConfig().root);
const [firstSite] = [...topology.sites.values()];

describe('createVyosLabComponent', () => {
  it('names the unset key variable and an unknown site at create, before any socket opens', () => {
    const build = (input: unknown) => () => createVyosLabComponent({ topology, env: {} }, input);
    expect(build({ sites: [firstSite!.id] })).toThrow(ConfigError);
    expect(build({ sites: [firstSite!.id] })).toThrow(firstSite!.router.api_key_env);
    expect(build({ sites: ['atlantis'] })).toThrow(/lab\.vyos\.sites: unknown site "atlantis"/);
    expect(build({ site: [] })).toThrow(/lab\.vyos\.site: unknown key/);
  });

  it('opens the routers on start, reports ready, and stops idempotently', async () => {
    const component = createVyosLabComponent(
      { topology, apiKey: 'lab-key-0123456789', clock: new SimulatedClock() },
      { sites: [firstSite!.id] },
    );
    expect(() => component.lab).toThrow(/not started/);
    expect(await component.ready?.()).toEqual({ ok: false, detail: 'routers not listening' });
    await component.start();
    try {
      expect(Object.keys(component.lab.urls)).toEqual([firstSite!.id]);
      expect(component.lab.urls[firstSite!.id]).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      expect(await component.ready?.()).toEqual({ ok: true });
    } finally {
      await component.stop();
      await component.stop();
    }
  });
});
