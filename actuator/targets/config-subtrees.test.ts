import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { ValidationError } from '../../core/errors.ts';
import { intentSchema, type ConfigSubtreesIntent } from '../../core/proposal.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { Dataplane, EffectiveView } from './index.ts';
import { effectOf, pathsFor, renderRouter } from './index.ts';
import { applyIntents, configAt } from './testing.ts';

const KEY = '+LdwEobWW6DvB4azxyk/KCqidY1/nDSlxUGCzxBsXnU=';
const PEER = 'arOeZlQj1sAHGlqdKuR+LgIg0Ep7VzNOZeZ44QQL7Bk=';
const KEY2_PUBLIC = 'ww95mK/wBNlHH5ccQXlWhx2S+kxYFDuWz8OQ7m2+mGM=';

function router(): EmulatedRouter {
  return new EmulatedRouter(
    {
      name: 'use1',
      version: '1.4',
      apiKey: 'api-key-of-use1',
      seed: [
        "set interfaces wireguard wg1 address '172.17.1.1/30'",
        "set interfaces wireguard wg1 description 'to euc1'",
        "set interfaces wireguard wg1 port '51801'",
        `set interfaces wireguard wg1 private-key '${KEY}'`,
        `set interfaces wireguard wg1 peer euc1 public-key '${PEER}'`,
        "set interfaces wireguard wg1 peer euc1 allowed-ips '172.17.1.0/30'",
        "set interfaces wireguard wg1 peer euc1 preshared-key 'cHJlc2hhcmVkLWtleS1vZi1leGFjdGx5LTMyLWI='",
        "set protocols static route 10.51.0.0/16 next-hop 169.254.10.1 distance '10'",
      ],
    },
    new SimulatedClock(Date.UTC(2026, 0, 1)),
  );
}

const intent = (subtrees: ConfigSubtreesIntent['subtrees'], extra: Partial<ConfigSubtreesIntent> = {}) =>
  intentSchema.parse({ kind: 'config-subtrees', router: 'use1', subtrees, ...extra }) as ConfigSubtreesIntent;

const dataplane = (r: EmulatedRouter): Dataplane => ({
  router: 'use1',
  version: '1.4',
  config: configAt(r, []) ?? {},
  effective: {} as EffectiveView,
});
const opts = { topology: {} as never, router: 'use1', lanInterface: 'eth0' };

describe('config-subtrees target', () => {
  it('sets subtrees whole and deletes, keeping the router its keys and PSKs', () => {
    const r = router();
    const change = intent([
      {
        path: ['interfaces', 'wireguard', 'wg1'],
        // As the repository has it: no private key, no PSK (they are the router's).
        desired: {
          address: '172.17.1.1/30',
          description: 'to eu-central-1',
          port: '51801',
          peer: { euc1: { 'public-key': PEER, 'allowed-ips': ['172.17.1.0/30', '10.11.0.0/16'] } },
        },
      },
      { path: ['protocols', 'static', 'route', '10.51.0.0/16'], desired: null },
    ]);
    expect(pathsFor([change])).toEqual([
      ['interfaces', 'wireguard', 'wg1'],
      ['protocols', 'static', 'route', '10.51.0.0/16'],
    ]);
    expect(effectOf(change, dataplane(r), opts).ok).toBe(false);
    applyIntents(r, [change]);
    const wg1 = configAt(r, ['interfaces', 'wireguard', 'wg1'])!;
    expect(wg1).toMatchObject({ description: 'to eu-central-1', 'private-key': KEY });
    expect(wg1.peer).toMatchObject({
      euc1: { 'allowed-ips': ['172.17.1.0/30', '10.11.0.0/16'], 'preshared-key': expect.any(String) },
    });
    expect(configAt(r, ['protocols', 'static'])).toBeNull();
    expect(effectOf(change, dataplane(r), opts)).toEqual({ ok: true, problems: [] });
  });

  it('a deleted peer takes its PSK with it; kept paths stay as the router holds them', () => {
    const r = router();
    r.applyCommands([
      `set interfaces wireguard wg1 peer usc1 public-key '${KEY2_PUBLIC}'`,
      "set interfaces wireguard wg1 peer usc1 allowed-ips '10.20.0.0/16'",
    ]);
    const usc1 = { 'public-key': KEY2_PUBLIC, 'allowed-ips': '10.20.0.0/16' };
    const change = intent([{ path: ['interfaces', 'wireguard', 'wg1'], desired: { address: '172.17.1.1/30', peer: { usc1 } } }], {
      keep: [['interfaces', 'wireguard', 'wg1', 'port']],
    });
    applyIntents(r, [change]);
    expect(configAt(r, ['interfaces', 'wireguard', 'wg1'])).toEqual({
      address: '172.17.1.1/30',
      port: '51801',
      'private-key': KEY,
      peer: { usc1 },
    });
    expect(effectOf(change, dataplane(r), opts).ok).toBe(true);
  });

  it('refuses to write service https or subtrees inside one another; the effect check is exact', () => {
    const render = (i: ConfigSubtreesIntent) => () => renderRouter([i], 1, {}, opts);
    expect(render(intent([{ path: ['service', 'https', 'api'], desired: null }]))).toThrow(ValidationError);
    expect(
      render(
        intent([
          { path: ['protocols', 'static'], desired: null },
          { path: ['protocols', 'static', 'route', '10.51.0.0/16'], desired: null },
        ]),
      ),
    ).toThrow(/lies inside "protocols static"/);
    const r = router();
    const fewer = intent([{ path: ['protocols', 'static', 'route', '10.51.0.0/16'], desired: { 'next-hop': {} } }]);
    expect(effectOf(fewer, dataplane(r), opts).problems).toEqual(['protocols static route 10.51.0.0/16 next-hop differs']);
  });
});
