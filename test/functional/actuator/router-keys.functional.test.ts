/**
 * Router API key rotation over the routers' own API (issue 18, item 6), on emulated routers whose API
 * server restarts after every `service https` commit (502 meanwhile, as nginx answers on a real router):
 * the actuator's key watch rotates each router's key make-before-break (add, verify, store, switch,
 * remove, verify the old one refused), the shared clients go on working, a restarted process reads the
 * store, and a key the router does not take, or an old key it does not drop, leaves a working key.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActuator, type Actuator } from '../../../actuator/index.ts';
import { createSiteClients } from '../../../actuator/site-clients.ts';
import { RouterKeyStore, rotateRouterApiKey, type StoredRouterKey } from '../../../actuator/security/router-keys.ts';
import { testRoot } from '../../../actuator/testing.ts';
import { VyosAuthError, VyosHttpError, type RouterApi } from '../../../actuator/vyos/types.ts';
import { VyosClient } from '../../../actuator/vyos/index.ts';
import { RealClock } from '../../../core/clock.ts';
import { Topology } from '../../../core/config/topology.ts';
import { ValidationError } from '../../../core/errors.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';

const KEY = 'router-keys-functional-key-0123456789';
const KEYS = ['service', 'https', 'api', 'keys', 'id'];
const SITES = ['onprem-nyc', 'aws-use1'];
const root = testRoot();
const topology = new Topology(root);
const env = { PATHPILOT_VYOS_KEY: KEY };
let lab: VyosLab;
let work: string;

beforeAll(async () => {
  // 1.5 (onprem-nyc) and 1.4 (aws-use1); each API restarts for 300 ms after a key commit.
  lab = await createVyosLabForTopology(topology, { apiKey: KEY, sites: SITES, apiRestartMs: 300 });
  work = mkdtempSync(join(tmpdir(), 'router-keys-'));
});
afterAll(async () => {
  await lab?.stop();
});

const configuredIds = (site: string) => Object.keys(lab.router(site).showConfig(KEYS) ?? {});
const refusedWith = async (site: string, key: string) => {
  const c = new VyosClient({ url: lab.urls[site]!, apiKey: key });
  try {
    return await c.exists([]).then(
      () => false,
      (err: unknown) => err instanceof VyosAuthError,
    );
  } finally {
    await c.close();
  }
};

describe('router API key rotation', () => {
  let actuator: Actuator;

  it('rotates every router make-before-break; the shared clients switch, the old key is refused', async () => {
    const store = join(work, 'keys', 'router-keys.json');
    const registry = createRegistry();
    const clients = createSiteClients({ topology, env, keyStore: store, urlOf: (s) => lab.urls[s] });
    const queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock: new RealClock(),
        routerFor: clients.routerFor,
        routerKeys: clients.routerKeys!,
        env: {},
        registry,
      },
      { gitops_dir: '', compliance: { interval_s: 0 }, router_keys: { store, rotate_every_h: 24 } },
    );
    // The emulated API restarts after a key commit, as the real one does: nginx answers 502 meanwhile.
    const c = new VyosClient({ url: lab.urls['aws-use1']!, apiKey: KEY });
    await c.configure([{ op: 'set', path: [...KEYS, 'probe', 'key'], value: 'probe-key-0123456789' }]);
    expect(await c.exists([]).catch((e: unknown) => (e as VyosHttpError).status)).toBe(502);
    await c.configure([{ op: 'delete', path: [...KEYS, 'probe'] }]).catch(async () => {
      await new Promise((r) => setTimeout(r, 400));
      await c.configure([{ op: 'delete', path: [...KEYS, 'probe'] }]);
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(configuredIds('aws-use1')).toEqual(['pathpilot']);
    await c.close();

    // One router per check, the ones never rotated first; a site the lab runs no router for is refused
    // (its client cannot be built) and held back, so the others still get their turn.
    const outcomes = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      const r = await actuator.service.checkRouterKeys();
      if (!r) break;
      outcomes.set(r.site, r.outcome);
    }
    expect(outcomes.size).toBe(topology.sites.size);
    for (const [site, outcome] of outcomes) expect(outcome).toBe(SITES.includes(site) ? 'rotated' : 'refused');
    expect(actuator.service.routerKeys().find((r) => r.router === 'ali-hk')?.last?.reason).toMatch(/api_url is empty/);
    // Nothing is due any more.
    expect(await actuator.service.checkRouterKeys()).toBeUndefined();

    expect(statSync(store).mode & 0o777).toBe(0o600);
    const saved = RouterKeyStore.load(store);
    for (const site of SITES) {
      const k = saved.get(site)!;
      expect(k.id).toMatch(/^pathpilot-\d{8}T\d{6}Z$/);
      expect(k.retired).toEqual([]);
      // The router holds exactly the new key; the seed's is gone and refused.
      expect(configuredIds(site)).toEqual([k.id]);
      expect(lab.router(site).apiKey).toBe(k.key);
      expect(await refusedWith(site, KEY)).toBe(true);
      expect(await refusedWith(site, k.key)).toBe(false);
      // The client every component shares sends the new key.
      expect(await clients.routerFor(site).exists(['service', 'https', 'api'])).toBe(true);
    }
    const m = await metricValues(registry);
    expect(m['pathpilot_router_api_key_rotations_total{router="onprem-nyc",outcome="rotated"}']).toBe(1);
    expect(m['pathpilot_router_api_key_age_seconds{router="aws-use1"}']).toBeLessThan(60);
    expect(
      actuator.service
        .routerKeys()
        .filter((r) => r.id !== null)
        .map((r) => [r.router, r.id]),
    ).toEqual([...SITES].sort().map((s) => [s, saved.get(s)!.id]));
    // The key never reaches the view.
    expect(JSON.stringify(actuator.service.routerKeys())).not.toContain(saved.get('aws-use1')!.key);

    // A restarted process (the environment's key is dead now) reads the routers with the stored keys.
    const restarted = createSiteClients({ topology, env, keyStore: store, urlOf: (s) => lab.urls[s] });
    expect(await restarted.routerFor('onprem-nyc').exists(['service'])).toBe(true);
    const envOnly = createSiteClients({ topology, env, urlOf: (s) => lab.urls[s] });
    await expect(envOnly.routerFor('onprem-nyc').exists(['service'])).rejects.toBeInstanceOf(VyosAuthError);

    // An admin's rotation now replaces the rotated key in turn.
    const before = saved.get('onprem-nyc')!;
    const again = await actuator.service.rotateRouterKey('onprem-nyc');
    expect(again).toMatchObject({ outcome: 'rotated', site: 'onprem-nyc', retired: [] });
    expect(configuredIds('onprem-nyc')).toEqual([(again as { id: string }).id]);
    expect(await refusedWith('onprem-nyc', before.key)).toBe(true);
    await actuator.stop();
    await queue.stop();
  }, 60_000);

  it('a new key the router does not take is removed again, and the one in use stays', async () => {
    const site = 'aws-use1';
    const current = lab.router(site).apiKey;
    const before = configuredIds(site);
    const client = new VyosClient({ url: lab.urls[site]!, apiKey: current });
    // The background commit fails (a verify error upstream is only logged): the API answers success anyway.
    lab.router(site).faults.set({ partialCommit: { failPrefix: ['service https'] } });
    const adopted: StoredRouterKey[] = [];
    const result = await rotateRouterApiKey({
      site,
      router: client,
      currentKey: current,
      probe: (key) => client.withKey(key),
      adopt: async (e) => {
        adopted.push(e);
      },
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      attempts: 4,
      intervalMs: 150,
    });
    expect(result.outcome).toBe('rolled-back');
    expect((result as { reason: string }).reason).toMatch(/new key was not accepted/);
    expect(adopted).toEqual([]);
    expect(configuredIds(site)).toEqual(before);
    expect(await refusedWith(site, current)).toBe(false);
    await client.close();
  });

  it('an old key the router keeps is reported and removed at the next rotation', async () => {
    const site = 'onprem-nyc';
    const current = lab.router(site).apiKey;
    const oldId = configuredIds(site)[0]!;
    const client = new VyosClient({ url: lab.urls[site]!, apiKey: current });
    const adopted: StoredRouterKey[] = [];
    const base = {
      site,
      probe: (key: string): RouterApi & { close(): Promise<void> } => {
        const c = client.withKey(key);
        // Deletes through this client fail: the old key cannot be removed this time.
        const failing = {
          url: c.url,
          version: c.version,
          showConfig: (path?: string[]) => c.showConfig(path),
          exists: (path: string[]) => c.exists(path),
          configure: async () => {
            throw new Error('Configuration system temporarily locked due to another commit in progress');
          },
          close: () => c.close(),
        };
        return failing as unknown as RouterApi & { close(): Promise<void> };
      },
      adopt: async (e: StoredRouterKey) => {
        adopted.push(e);
      },
      wait: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      attempts: 3,
      intervalMs: 150,
    };
    const kept = await rotateRouterApiKey({ ...base, router: client, currentKey: current });
    expect(kept).toMatchObject({ outcome: 'old-key-kept', retired: [oldId] });
    expect(adopted.at(-1)!.retired).toEqual([oldId]);
    // Both keys work for now; the stored one is the new key.
    expect(await refusedWith(site, current)).toBe(false);
    const newKey = adopted.at(-1)!.key;
    expect(await refusedWith(site, newKey)).toBe(false);

    // The next rotation (deletes work again) removes the new-then key and the one left over.
    const next = new VyosClient({ url: lab.urls[site]!, apiKey: newKey });
    const result = await rotateRouterApiKey({
      ...base,
      probe: (key) => next.withKey(key),
      router: next,
      currentKey: newKey,
      retired: [oldId],
      now: () => Date.now() + 1000,
    });
    expect(result).toMatchObject({ outcome: 'rotated', retired: [] });
    expect(configuredIds(site)).toEqual([(result as { id: string }).id]);
    expect(await refusedWith(site, current)).toBe(true);
    expect(await refusedWith(site, newKey)).toBe(true);
    await client.close();
    await next.close();
  });

  it('refuses a malformed key store with its problem', () => {
    const file = join(work, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 1, routers: { r1: { id: 'x', key: '' } } }));
    expect(() => RouterKeyStore.load(file)).toThrow(ValidationError);
    expect(() => RouterKeyStore.load(file)).toThrow(/bad\.json: routers\.r1\.key/);
    writeFileSync(file, '{');
    expect(() => RouterKeyStore.load(file)).toThrow(/not JSON/);
    expect(RouterKeyStore.load(join(work, 'missing.json')).entries().size).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('{');
  });
});
