/**
 * The `RouterApi` conformance suite: the wire contract of the VyOS HTTP API (encodings, envelope,
 * status codes, content type, error texts) and the config semantics pathpilot relies on (JSON
 * rendering, discard on error, verify failures, idempotence, section load, key generation,
 * commit-confirm). It runs against the lab emulator in CI and against a real VyOS when
 * `VYOS_URL`/`VYOS_KEY` are set, so the emulator is held to what a real router does.
 *
 * Safe for a real router: it only touches scratch nodes nobody references
 * (`protocols static table 150`, `firewall group address-group PP-CONFORMANCE`), sets the commit-confirm
 * action and puts the router's own setting back, makes a WireGuard
 * interface fail verification (nothing is committed), saves to a scratch file, and removes what it set.
 * Tests that move the router's clock are registered only when the fixture can (the emulator).
 */
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, FormData, request, type Dispatcher } from 'undici';
import {
  VyosAuthError,
  VyosRejectedError,
  VyosUnsupportedError,
  type RouterApi,
  type VyosVersion,
} from '../../actuator/vyos/index.ts';
import { confirmActionPath, probeCapabilities } from '../../actuator/vyos/capabilities.ts';

export interface RouterApiFixture {
  api: RouterApi;
  version: VyosVersion;
  /** Raw HTTP access for the wire-level tests. */
  http: { url: string; key: string; dispatcher?: Dispatcher };
  /** A second client for the same router with another key (auth tests). */
  clientWithKey(key: string): RouterApi;
  /** Moves the router's clock by `minutes` (emulator on a SimulatedClock). Absent on real routers. */
  advanceMinutes?: (minutes: number) => Promise<void>;
  close(): Promise<void>;
}

/** What the suite may assume about the target, known when tests are registered. */
export interface RouterApiCapabilities {
  version: VyosVersion;
  /** The fixture can move the router's clock (`advanceMinutes`): registers the expiry tests. */
  movesClock: boolean;
  /**
   * The image honours `confirm_time` and knows `{"op":"confirm"}`. Default: every 1.5 image; false for
   * 1.4 and for 1.5 images built before June 2025 (vyos-facts §1.6, §5.5).
   */
  commitConfirm?: boolean;
  /** The version string the router reports (`show version`, `/info`), when known. */
  image?: string;
}

const TABLE = ['protocols', 'static', 'table', '150'];
const GROUP = ['firewall', 'group', 'address-group', 'PP-CONFORMANCE'];
const WG = ['interfaces', 'wireguard', 'wg9150'];

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  json: Record<string, unknown> | undefined;
}

async function raw(
  fx: RouterApiFixture,
  endpoint: string,
  body: string | FormData | undefined,
  opts: { contentType?: string; method?: 'GET' | 'POST' } = {},
): Promise<RawAnswer> {
  const res = await request(`${fx.http.url}${endpoint}`, {
    method: opts.method ?? 'POST',
    body,
    headers: opts.contentType ? { 'content-type': opts.contentType } : {},
    ...(fx.http.dispatcher ? { dispatcher: fx.http.dispatcher } : {}),
  });
  const text = await res.body.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text, json };
}

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

async function rejection(p: Promise<unknown>): Promise<VyosRejectedError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof VyosRejectedError) return err;
    throw err;
  }
  throw new Error('expected the router to reject the request');
}

/** Registers the suite under `label`; `factory` is called once per file (beforeAll). */
export function routerApiConformance(label: string, factory: () => Promise<RouterApiFixture>, caps: RouterApiCapabilities): void {
  describe(`RouterApi conformance: ${label}`, () => {
    let fx: RouterApiFixture;
    let api: RouterApi;

    beforeAll(async () => {
      fx = await factory();
      api = fx.api;
    });
    afterAll(async () => {
      await fx?.close();
    });
    afterEach(async () => {
      for (const path of [TABLE, GROUP, WG]) {
        if (await api.exists(path)) await api.configure([{ op: 'delete', path }]);
      }
    });

    describe('wire format', () => {
      it('answers multipart/form-data with the envelope, as text/html', async () => {
        const r = await raw(
          fx,
          '/retrieve',
          form({ data: JSON.stringify({ op: 'exists', path: ['service', 'https'] }), key: fx.http.key }),
        );
        expect(r.status).toBe(200);
        expect(r.contentType).toMatch(/^text\/html/);
        expect(Object.keys(r.json!)).toEqual(['success', 'data', 'error']);
        expect(r.json).toEqual({ success: true, data: true, error: null });
      });

      it('accepts urlencoded bodies with the key inside data', async () => {
        const body = new URLSearchParams({ data: JSON.stringify({ op: 'exists', path: ['no-such-node'], key: fx.http.key }) });
        const r = await raw(fx, '/retrieve', body.toString(), { contentType: 'application/x-www-form-urlencoded' });
        expect(r.status).toBe(200);
        expect(r.json).toEqual({ success: true, data: false, error: null });
      });

      it('accepts a raw JSON body with a top-level key', async () => {
        const r = await raw(
          fx,
          '/retrieve',
          JSON.stringify({ key: fx.http.key, op: 'returnValues', path: [...GROUP, 'address'] }),
          {
            contentType: 'application/json',
          },
        );
        expect(r.status).toBe(200);
        expect(r.json).toEqual({ success: true, data: [], error: null });
      });

      it('wraps a bare list in data as the commands of a /configure', async () => {
        const cmds = [
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.10' },
          { op: 'set', path: [...GROUP, 'description'], value: 'pathpilot conformance' },
        ];
        const r = await raw(fx, '/configure', form({ data: JSON.stringify(cmds), key: fx.http.key }));
        expect(r.status).toBe(200);
        expect(r.json!.success).toBe(true);
        expect(await api.returnValue([...GROUP, 'description'])).toBe('pathpilot conformance');
      });

      it('refuses a wrong key with 401 and the error-first envelope', async () => {
        const r = await raw(fx, '/retrieve', form({ data: JSON.stringify({ op: 'exists', path: [] }), key: 'wrong-key' }));
        expect(r.status).toBe(401);
        expect(r.contentType).toMatch(/^text\/html/);
        expect(Object.keys(r.json!)).toEqual(['success', 'error', 'data']);
        expect(r.json).toEqual({ success: false, error: 'Valid API key is required', data: null });
      });

      it('answers 422 when the form has no data field', async () => {
        const r = await raw(fx, '/retrieve', form({ key: fx.http.key }));
        expect(r.status).toBe(422);
        expect(r.json).toEqual({ success: false, error: 'Non-empty data field is required', data: null });
      });

      it('answers 400 for unparsable JSON in data', async () => {
        const r = await raw(fx, '/retrieve', form({ data: '{"op": ', key: fx.http.key }));
        expect(r.status).toBe(400);
        expect(String(r.json!.error)).toMatch(/^Failed to parse JSON/);
      });

      it('answers 400 naming the missing key of a raw JSON body', async () => {
        const r = await raw(fx, '/retrieve', JSON.stringify({ op: 'exists', path: [] }), { contentType: 'application/json' });
        expect(r.status).toBe(400);
        expect(String(r.json!.error)).toContain("'loc': ('body', 'key')");
        expect(String(r.json!.error)).toMatch(/field required/i);
      });

      it('names an invalid operation', async () => {
        const r = await raw(fx, '/retrieve', form({ data: JSON.stringify({ op: 'bogus', path: [] }), key: fx.http.key }));
        expect(r.status).toBe(400);
        expect(r.json!.error).toBe("'bogus' is not a valid operation");
      });

      it('only takes POST on API endpoints', async () => {
        const r = await raw(fx, '/retrieve', undefined, { method: 'GET' });
        expect(r.status).toBe(405);
        expect(r.json).toEqual({ detail: 'Method Not Allowed' });
      });

      it('client maps a wrong key to VyosAuthError', async () => {
        const err = await fx
          .clientWithKey('nope')
          .show(['version'])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(VyosAuthError);
        expect((err as VyosAuthError).vyosError).toBe('Valid API key is required');
        expect((err as VyosAuthError).message).not.toContain('nope');
      });
    });

    describe('configuration', () => {
      it('renders showConfig JSON: tag nodes, one value as string, several as list, valueless as {}', async () => {
        await api.configure([
          { op: 'set', path: [...TABLE, 'route', '192.0.2.0/24', 'blackhole', 'distance'], value: '10' },
          { op: 'set', path: [...TABLE, 'route', '198.51.100.0/24', 'blackhole'] },
          { op: 'set', path: [...TABLE, 'description'], value: 'pathpilot conformance' },
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.1' },
        ]);
        expect(await api.showConfig(TABLE)).toEqual({
          description: 'pathpilot conformance',
          route: { '192.0.2.0/24': { blackhole: { distance: '10' } }, '198.51.100.0/24': { blackhole: {} } },
        });
        expect(await api.showConfig(GROUP)).toEqual({ address: '192.0.2.1' });
        await api.configure([{ op: 'set', path: [...GROUP, 'address', '192.0.2.2'] }]);
        expect(await api.showConfig(GROUP)).toEqual({ address: ['192.0.2.1', '192.0.2.2'] });
        const whole = await api.showConfig([]);
        expect(Object.keys(whole!)).toContain('protocols');
      });

      it('reads values: returnValue, returnValues, exists (missing → null, [], false)', async () => {
        await api.configure([
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.1' },
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.3' },
          { op: 'set', path: [...TABLE, 'description'], value: 'x' },
        ]);
        expect(await api.returnValue([...TABLE, 'description'])).toBe('x');
        expect(await api.returnValues([...GROUP, 'address'])).toEqual(['192.0.2.1', '192.0.2.3']);
        expect(await api.exists([...GROUP, 'address', '192.0.2.3'])).toBe(true);
        expect(await api.exists(TABLE)).toBe(true);
        expect(await api.returnValue([...TABLE, 'route', '203.0.113.0/24', 'description'])).toBeNull();
        expect(await api.returnValues([...GROUP, 'include'])).toEqual([]);
        expect(await api.exists([...TABLE, 'route', '203.0.113.0/24'])).toBe(false);
      });

      it('showConfig: null on a valid unset path, an error on an invalid path', async () => {
        expect(await api.showConfig(TABLE)).toBeNull();
        const err = await rejection(api.showConfig(['protocols', 'no-such-protocol']));
        expect(err.vyosError).toContain('Specified configuration path is not valid');
      });

      it('replaces a single-value leaf, is idempotent, deletes one value of a multi-value leaf', async () => {
        await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'one' }]);
        await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'two' }]);
        expect(await api.returnValue([...TABLE, 'description'])).toBe('two');
        await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'two' }]);
        await api.configure([
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.1' },
          { op: 'set', path: [...GROUP, 'address'], value: '192.0.2.2' },
        ]);
        await api.configure([{ op: 'delete', path: [...GROUP, 'address'], value: '192.0.2.1' }]);
        expect(await api.returnValues([...GROUP, 'address'])).toEqual(['192.0.2.2']);
      });

      it('deleting a path that does not exist succeeds (non-strict)', async () => {
        await api.configure([{ op: 'delete', path: [...TABLE, 'route', '203.0.113.0/24'] }]);
        expect(await api.exists(TABLE)).toBe(false);
      });

      it('rejects an invalid path with the vyatta text and commits nothing of the batch', async () => {
        const err = await rejection(
          api.configure([
            { op: 'set', path: [...TABLE, 'description'], value: 'must not stay' },
            { op: 'set', path: [...TABLE, 'bogus-node'], value: 'x' },
          ]),
        );
        expect(err.status).toBe(400);
        expect(err.vyosError).toMatch(/Configuration path: \[protocols static table 150 bogus-node x\] is not valid/);
        expect(err.vyosError).toMatch(/Set failed/);
        expect(err.commitFailed).toBe(false);
        expect(await api.exists(TABLE)).toBe(false);
      });

      it('rejects an invalid value with the constraint message', async () => {
        const err = await rejection(
          api.configure([{ op: 'set', path: ['interfaces', 'wireguard', 'tunnel0', 'mtu'], value: '1400' }]),
        );
        expect(err.vyosError).toContain('WireGuard interface must be named wgN');
        expect(err.vyosError).toContain('Value validation failed');
        const err2 = await rejection(api.configure([{ op: 'set', path: [...TABLE, 'route', '192.0.2.1/24', 'blackhole'] }]));
        expect(err2.vyosError).toContain('Value validation failed');
        expect(await api.exists(TABLE)).toBe(false);
      });

      it('reports a verify failure as a failed commit of that subsystem', async () => {
        const err = await rejection(
          api.configure([
            { op: 'set', path: [...WG, 'address'], value: '10.254.254.1/30' },
            { op: 'set', path: [...WG, 'description'], value: 'pathpilot conformance' },
          ]),
        );
        expect(err.vyosError).toContain('Wireguard private-key not defined');
        expect(err.commitFailed).toBe(true);
        expect(err.failedPaths).toEqual(['interfaces wireguard wg9150']);
        expect(await api.exists(WG)).toBe(false);
      });

      it('configureSection load restores a subtree snapshot exactly; set merges', async () => {
        await api.configure([
          { op: 'set', path: [...TABLE, 'route', '192.0.2.0/24', 'blackhole', 'distance'], value: '10' },
          { op: 'set', path: [...TABLE, 'description'], value: 'before' },
        ]);
        const snapshot = (await api.showConfig(TABLE))!;
        await api.configure([
          { op: 'set', path: [...TABLE, 'route', '198.51.100.0/24', 'blackhole'] },
          { op: 'set', path: [...TABLE, 'description'], value: 'after' },
        ]);
        await api.configureSection(TABLE, snapshot, 'load');
        expect(await api.showConfig(TABLE)).toEqual(snapshot);
        await api.configureSection(TABLE, { route: { '203.0.113.0/24': { blackhole: {} } } }, 'set');
        expect(await api.exists([...TABLE, 'route', '192.0.2.0/24'])).toBe(true);
        expect(await api.exists([...TABLE, 'route', '203.0.113.0/24'])).toBe(true);
      });

      it('saves to a file and loads it back without changes', async () => {
        const file = '/tmp/pathpilot-conformance.boot';
        expect(await api.saveConfig(file)).toBe(`Saving configuration to '${file}'...\nDone\n`);
        const before = await api.showConfig([]);
        await api.loadConfigFile(file);
        expect(await api.showConfig([])).toEqual(before);
      });
    });

    describe('op mode', () => {
      it('generates a real X25519 WireGuard key pair', async () => {
        const k = await api.generateWireguardKeypair();
        expect(Buffer.from(k.privateKey, 'base64')).toHaveLength(32);
        expect(Buffer.from(k.publicKey, 'base64')).toHaveLength(32);
        const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(k.privateKey, 'base64')]);
        const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' }).x!;
        expect(Buffer.from(pub, 'base64url').toString('base64')).toBe(k.publicKey);
      });

      it('shows the version of the expected train', async () => {
        const info = await api.info();
        expect(info.train).toBe(fx.version);
        if (caps.image) expect(info.version).toBe(caps.image);
        const text = await api.show(['version']);
        expect(text).toMatch(/^Version:\s+VyOS /m);
        if (caps.image) expect(text).toMatch(new RegExp(`^Version:\\s+VyOS ${caps.image.replace(/\./g, '\\.')}$`, 'm'));
      });

      it('shows the running config as set commands', async () => {
        await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'shown' }]);
        const text = await api.show(['configuration', 'commands']);
        expect(text).toContain("set protocols static table 150 description 'shown'");
      });
    });

    describe('commit-confirm', () => {
      const confirms = caps.commitConfirm ?? caps.version === '1.5';

      it(`the probe finds commit-confirm ${confirms ? 'supported' : 'absent'}: {"op":"confirm"} with nothing pending`, async () => {
        if (!confirms) {
          // On /config-file (where the client confirms) the op is unknown; on /configure it is a command
          // without `path` (docs/notes/vyos.md, fact 28). Both refuse with 400.
          const refused = await rejection(api.confirm());
          expect(refused.status).toBe(400);
          expect(refused.vyosError).toContain("'confirm' is not a valid operation");
          const viaConfigure = await raw(fx, '/configure', JSON.stringify({ key: fx.http.key, op: 'confirm' }), {
            contentType: 'application/json',
          });
          expect(viaConfigure.status).toBe(400);
          expect(viaConfigure.json?.success).toBe(false);
        } else expect(await api.confirm()).toEqual({ confirmed: false, message: 'No confirm pending' });
        const probed = await probeCapabilities(api);
        expect(probed.commitConfirm).toBe(confirms);
        expect(probed.train).toBe(fx.version);
        if (caps.image) expect(probed.version).toBe(caps.image);
      });

      if (caps.version === '1.5') {
        it('reads the commit-confirm action: unset means the default reboot; reload when set', async () => {
          // A real router keeps its operator's setting: it is put back afterwards.
          const original = await api.returnValue(confirmActionPath);
          if (caps.movesClock) expect(original).toBeNull(); // the emulator starts unset
          if (confirms && original === null) expect((await probeCapabilities(api)).confirmAction).toBe('reboot');
          await api.configure([{ op: 'set', path: confirmActionPath, value: 'reload' }]);
          try {
            expect(await api.returnValue(confirmActionPath)).toBe('reload');
            if (confirms) expect((await probeCapabilities(api)).confirmAction).toBe('reload');
          } finally {
            await api.configure([
              original === null
                ? { op: 'delete', path: confirmActionPath }
                : { op: 'set', path: confirmActionPath, value: original },
            ]);
          }
          expect(await api.returnValue(confirmActionPath)).toBe(original);
        });
      }

      if (caps.version === '1.5' && !confirms) {
        it('an image before June 2025 commits a confirm_time request and arms nothing', async () => {
          const out = await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'no timer' }], {
            confirmTime: 1,
          });
          expect(out ?? '').not.toContain('Initialized commit-confirm');
          expect(await api.returnValue([...TABLE, 'description'])).toBe('no timer');
          if (fx.advanceMinutes) {
            await fx.advanceMinutes(2);
            expect(await api.returnValue([...TABLE, 'description'])).toBe('no timer');
          }
        });
      }

      if (caps.version === '1.4' || confirms) {
        it('1.4 has no commit-confirm over the API; 1.5 arms and confirms it', async () => {
          const op = { op: 'set' as const, path: [...TABLE, 'description'], value: 'confirm me' };
          if (fx.version === '1.4') {
            await expect(api.configure([op], { confirmTime: 1 })).rejects.toBeInstanceOf(VyosUnsupportedError);
            expect(await api.exists(TABLE)).toBe(false);
            return;
          }
          expect((await api.confirm()).confirmed).toBe(false);
          const out = await api.configure([op], { confirmTime: 5 });
          expect(out).toMatch(/^Initialized commit-confirm; 5 minutes to confirm before (reload|reboot)/);
          const again = await rejection(api.configure([{ ...op, value: 'second' }], { confirmTime: 5 }));
          expect(again.vyosError).toContain('Another confirm is pending');
          const c = await api.confirm();
          expect(c).toEqual({ confirmed: true, message: 'Reload timer stopped' });
          expect(await api.returnValue([...TABLE, 'description'])).toBe('confirm me');
        });
      }

      if (confirms && caps.movesClock) {
        it('reverts when the timer expires on the router clock (default action: back to the saved config)', async () => {
          await api.configure([{ op: 'set', path: [...GROUP, 'address'], value: '192.0.2.7' }]); // committed, unsaved
          await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'unconfirmed' }], { confirmTime: 2 });
          await fx.advanceMinutes!(1);
          expect(await api.returnValue([...TABLE, 'description'])).toBe('unconfirmed');
          await fx.advanceMinutes!(1.5);
          expect(await api.exists(TABLE)).toBe(false);
          // `reboot` comes back with config.boot: the unsaved commit before it is gone too.
          expect(await api.exists(GROUP)).toBe(false);
          expect(await api.confirm()).toEqual({ confirmed: false, message: 'No confirm pending' });
        });

        it('with commit-confirm action reload, only the unconfirmed commit is undone', async () => {
          const action = ['system', 'config-management', 'commit-confirm', 'action'];
          await api.configure([{ op: 'set', path: action, value: 'reload' }]);
          await api.configure([{ op: 'set', path: [...GROUP, 'address'], value: '192.0.2.8' }]);
          const out = await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'unconfirmed' }], {
            confirmTime: 1,
          });
          expect(out).toContain('before reload');
          await fx.advanceMinutes!(1.01);
          expect(await api.exists(TABLE)).toBe(false);
          expect(await api.returnValues([...GROUP, 'address'])).toEqual(['192.0.2.8']);
          await api.configure([{ op: 'delete', path: ['system', 'config-management'] }]);
        });

        it('a confirmed change survives the deadline', async () => {
          await api.configure([{ op: 'set', path: [...TABLE, 'description'], value: 'kept' }], { confirmTime: 1 });
          await fx.advanceMinutes!(0.5);
          expect((await api.confirm()).confirmed).toBe(true);
          await fx.advanceMinutes!(5);
          expect(await api.returnValue([...TABLE, 'description'])).toBe('kept');
        });
      }
    });
  });
}

/** An undici dispatcher that trusts one self-signed certificate (for raw calls to the TLS emulator). */
export function pinnedDispatcher(ca: string): Dispatcher {
  return new Agent({ connect: { ca } });
}
