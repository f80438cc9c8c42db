/**
 * Emulator-specific behaviour over real HTTP (the RouterApi conformance suite covers the shared
 * contract): topology seeds, the in-process handle the twin uses, fault injection, partial commits,
 * strict mode, verify rules per area, API enable/disable per version, HTML escaping, /info,
 * config files and op-mode outputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SimulatedClock } from '../../../core/clock.ts';
import { loadConfig } from '../../../core/config/index.ts';
import { Topology } from '../../../core/config/topology.ts';
import {
  VyosClient,
  VyosHttpError,
  VyosLockedError,
  VyosRejectedError,
  VyosUnreachableError,
  vyosClientForSite,
} from '../../../actuator/vyos/index.ts';
import {
  createVyosLab,
  createVyosLabComponent,
  createVyosLabForTopology,
  initialRouterConfig,
  type CommitEvent,
  type VyosLab,
} from '../../../lab/vyos/index.ts';

const KEY = 'emulator-test-key';

async function rejected(p: Promise<unknown>): Promise<VyosRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof VyosRejectedError) return err;
  throw new Error(`expected a rejection, got ${String(err)}`);
}

async function post(url: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const res = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
}

describe('VyOS emulator: example topology seeds', () => {
  let lab: VyosLab;
  const topology = new Topology(loadConfig(undefined, {}).root);

  beforeAll(async () => {
    lab = await createVyosLab({
      routers: [...topology.sites.values()].map((s) => ({
        name: s.id,
        version: s.router.vyos_version,
        apiKey: KEY,
        seed: initialRouterConfig(topology, s.id, KEY),
      })),
      clock: new SimulatedClock(),
    });
  });
  afterAll(() => lab.stop());

  it('starts one router per site, each on its own loopback port, seed committed as revision 1', () => {
    expect(lab.routers.size).toBe(topology.sites.size);
    const ports = new Set(Object.values(lab.urls).map((u) => new URL(u).port));
    expect(ports.size).toBe(topology.sites.size);
    for (const r of lab.routers.values()) {
      expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(r.revision()).toBe(1);
    }
  });

  it('seeds interfaces, static routes to every remote prefix and one WAN LB rule per remote prefix', () => {
    const r = lab.router('aws-use1');
    expect(r.showConfig(['interfaces', 'ethernet', 'eth1'])).toMatchObject({ address: '169.254.10.2/30' });
    expect(r.exists(['interfaces', 'vti', 'vti1'])).toBe(true);
    const routes = r.showConfig(['protocols', 'static', 'route']);
    // Sites with a candidate path, or adjacent over a direct link (aws-euc1 over wg1, gcp-usc1 over wg2).
    const reachable = [...topology.sites.values()].filter(
      (s) =>
        s.id !== 'aws-use1' &&
        (topology.pathsFor('aws-use1', s.id).length > 0 ||
          [...topology.links.values()].some((l) => [l.a.site, l.b.site].sort().join() === ['aws-use1', s.id].sort().join())),
    );
    expect(reachable).toHaveLength(6);
    const remote = reachable.flatMap((s) => s.prefixes);
    expect(Object.keys(routes).sort()).toEqual([...remote].sort());
    const rules = r.showConfig(['load-balancing', 'wan', 'rule']) as Record<string, { destination: { address: string } }>;
    expect(
      Object.values(rules)
        .map((x) => x.destination.address)
        .sort(),
    ).toEqual([...remote].sort());
    // To onprem-nyc the primary path leaves over the direct-connect eth1.
    const toNyc = Object.values(rules).find((x) => x.destination.address === '10.51.0.0/16');
    expect(toNyc).toMatchObject({ interface: { eth1: { weight: '1' } }, 'inbound-interface': 'eth0' });
  });

  it('pairs WireGuard keys: each peer public key is the other side’s real X25519 public key', async () => {
    for (const link of topology.links.values()) {
      if (link.kind !== 'wireguard') continue;
      const a = lab.router(link.a.site);
      const b = lab.router(link.b.site);
      const client = new VyosClient({ url: b.url, apiKey: KEY, version: b.version });
      const bPublic = (await client.show(['interfaces', 'wireguard', link.b.interface, 'public-key'])).trim();
      await client.close();
      expect(a.returnValue(['interfaces', 'wireguard', link.a.interface, 'peer', link.b.site, 'public-key'])).toBe(bPublic);
    }
  });

  it('the in-process handle returns exactly what /retrieve returns', async () => {
    const r = lab.router('azure-weu');
    for (const path of [[], ['load-balancing', 'wan'], ['interfaces', 'wireguard', 'wg5', 'peer']]) {
      const res = await post(`${r.url}/retrieve`, { key: KEY, op: 'showConfig', path });
      expect(JSON.parse(res.text)).toEqual({ success: true, data: r.showConfig(path), error: null });
    }
    expect(r.runningCommands(['load-balancing', 'wan', 'rule', '10'])).toContain(
      "set load-balancing wan rule 10 inbound-interface 'eth0'",
    );
  });

  it('emits onCommit with the changed subsystems when weights change over the API', async () => {
    const r = lab.router('onprem-nyc');
    const rules = r.showConfig(['load-balancing', 'wan', 'rule']) as Record<string, { destination: { address: string } }>;
    const rule = Object.keys(rules).find((n) => rules[n]!.destination.address === '10.10.0.0/16')!;
    expect(r.showConfig(['load-balancing', 'wan', 'rule', rule, 'interface'])).toEqual({ eth1: { weight: '1' } });
    const events: CommitEvent[] = [];
    const off = r.onCommit((e) => events.push(e));
    const client = new VyosClient({ url: r.url, apiKey: KEY, version: r.version });
    await client.configure([
      { op: 'set', path: ['load-balancing', 'wan', 'rule', rule, 'interface', 'eth1', 'weight'], value: '3' },
      { op: 'set', path: ['load-balancing', 'wan', 'rule', rule, 'interface', 'vti1', 'weight'], value: '1' },
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      router: 'onprem-nyc',
      revision: 2,
      reason: 'configure',
      changed: [['load-balancing', 'wan']],
    });
    expect(events[0]!.commands).toContain(`set load-balancing wan rule ${rule} interface eth1 weight '3'`);
    expect(r.showConfig(['load-balancing', 'wan', 'rule', rule, 'interface'])).toEqual({
      eth1: { weight: '3' },
      vti1: { weight: '1' },
    });
    off();
    await client.configure([
      { op: 'set', path: ['load-balancing', 'wan', 'rule', rule, 'interface', 'eth1', 'weight'], value: '2' },
    ]);
    expect(events).toHaveLength(1);
    // A commit with no change is a success and no event.
    r.onCommit((e) => events.push(e));
    await client.configure([
      { op: 'set', path: ['load-balancing', 'wan', 'rule', rule, 'interface', 'eth1', 'weight'], value: '2' },
    ]);
    expect(events).toHaveLength(1);
    await client.close();
  });

  it('shows op-mode state: interfaces, WAN LB status, static routes', async () => {
    const r = lab.router('aws-use1');
    const client = new VyosClient({ url: r.url, apiKey: KEY });
    expect(await client.show(['interfaces'])).toMatch(/^wg1\s+172\.17\.1\.1\/30\s+u\/u/m);
    expect(await client.show(['load-balancing', 'wan'])).toContain('Interface:  eth1');
    expect(await client.show(['ip', 'route'])).toMatch(/S>\* 10\.51\.0\.0\/16 \[10\/0\] via 169\.254\.10\.1/);
    const err = await rejected(client.show(['bogus']));
    expect(err.vyosError).toContain('Invalid command');
    await client.close();
  });
});

describe('VyOS emulator: faults, partial commits, verify rules', () => {
  let lab: VyosLab;
  let v14: VyosClient;
  let v15: VyosClient;

  beforeAll(async () => {
    lab = await createVyosLab({
      routers: [
        {
          name: 'a',
          version: '1.4',
          apiKey: KEY,
          seed: [
            "set interfaces ethernet eth1 address '192.0.2.1/30'",
            "set load-balancing wan interface-health eth1 nexthop '192.0.2.2'",
            "set load-balancing wan rule 10 inbound-interface 'eth0'",
            "set load-balancing wan rule 10 interface eth1 weight '1'",
          ],
        },
        { name: 'b', version: '1.5', apiKey: KEY },
        { name: 'strict', version: '1.4', apiKey: KEY, strict: true },
      ],
      clock: new SimulatedClock(),
    });
    v14 = new VyosClient({ url: lab.urls.a!, apiKey: KEY, version: '1.4', timeoutMs: 10_000 });
    v15 = new VyosClient({ url: lab.urls.b!, apiKey: KEY, version: '1.5', timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await v14.close();
    await v15.close();
    await lab.stop();
  });

  it('latency beyond the client timeout is a timed-out VyosUnreachableError', async () => {
    const impatient = new VyosClient({ url: lab.urls.a!, apiKey: KEY, timeoutMs: 300 });
    lab.router('a').faults.set({ latencyMs: 1500 });
    const err = await impatient.exists(['qos']).catch((e: unknown) => e);
    lab.router('a').faults.reset();
    await impatient.close();
    expect(err).toBeInstanceOf(VyosUnreachableError);
    expect((err as VyosUnreachableError).timedOut).toBe(true);
    expect((err as Error).message).not.toContain(KEY);
  });

  it('a hung request times out, the next one is answered', async () => {
    const impatient = new VyosClient({ url: lab.urls.a!, apiKey: KEY, timeoutMs: 300 });
    lab.router('a').faults.set({ hangRequests: 1 });
    await expect(impatient.exists(['qos'])).rejects.toBeInstanceOf(VyosUnreachableError);
    await expect(v14.exists(['load-balancing'])).resolves.toBe(true);
    await impatient.close();
  });

  it('5xx answers become VyosHttpError with the server text', async () => {
    lab.router('a').faults.set({ fail5xx: 1 });
    const err = await v14.exists(['qos']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VyosHttpError);
    expect((err as VyosHttpError).status).toBe(500);
    expect((err as VyosHttpError).message).toContain('An internal error occured');
  });

  it('"temporarily locked" rejects the commit and applies nothing', async () => {
    lab.router('a').faults.set({ lockedCommits: 1 });
    const op = { op: 'set' as const, path: ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'], value: '9' };
    const err = await v14.configure([op]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VyosLockedError);
    expect((err as VyosLockedError).vyosError).toBe('Configuration system temporarily locked due to another commit in progress');
    expect(lab.router('a').returnValue(op.path)).toBe('1');
    await v14.configure([op]);
    expect(lab.router('a').returnValue(op.path)).toBe('9');
  });

  it('a verify failure in one subsystem leaves the other subsystems of the batch committed', async () => {
    const err = await rejected(
      v14.configure([
        { op: 'set', path: ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'], value: '4' },
        { op: 'set', path: ['interfaces', 'wireguard', 'wg7', 'address'], value: '10.7.0.1/30' },
      ]),
    );
    expect(err.vyosError).toBe(
      '[ interfaces wireguard wg7 ]\nWireguard private-key not defined\n\n[[interfaces wireguard wg7]] failed\nCommit failed\n',
    );
    expect(err.failedPaths).toEqual(['interfaces wireguard wg7']);
    expect(lab.router('a').returnValue(['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'])).toBe('4');
    expect(lab.router('a').exists(['interfaces', 'wireguard', 'wg7'])).toBe(false);
  });

  it('an injected partial commit fails the chosen subsystem only', async () => {
    lab.router('a').faults.set({ partialCommit: { failPrefix: ['qos'], message: 'tc failed' } });
    const err = await rejected(
      v14.configure([
        { op: 'set', path: ['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'], value: '5' },
        { op: 'set', path: ['qos', 'policy', 'shaper', 'WAN', 'bandwidth'], value: '100mbit' },
        { op: 'set', path: ['qos', 'policy', 'shaper', 'WAN', 'default', 'bandwidth'], value: '50%' },
      ]),
    );
    expect(err.failedPaths).toEqual(['qos']);
    expect(err.vyosError).toContain('tc failed');
    expect(lab.router('a').returnValue(['load-balancing', 'wan', 'rule', '10', 'interface', 'eth1', 'weight'])).toBe('5');
    expect(lab.router('a').exists(['qos'])).toBe(false);
  });

  it.each([
    [
      [['load-balancing', 'wan', 'rule', '20', 'interface', 'eth1', 'weight', '2']],
      'rule 20 inbound-interface must be specified!',
    ],
    [
      [['load-balancing', 'wan', 'interface-health', 'eth2', 'failure-count', '2']],
      'interface-health eth2 nexthop must be specified!',
    ],
    [
      [
        ['load-balancing', 'wan', 'rule', '20', 'inbound-interface', 'eth0'],
        ['load-balancing', 'wan', 'rule', '20', 'destination', 'port', '443'],
      ],
      'ports can only be specified when protocol is "tcp" or "udp"',
    ],
    [[['qos', 'interface', 'eth1', 'egress', 'NOPE']], 'Selected QoS policy "NOPE" does not exist!'],
    [
      [
        ['qos', 'policy', 'shaper', 'S1', 'default', 'bandwidth', '10mbit'],
        ['qos', 'interface', 'eth1', 'ingress', 'S1'],
      ],
      `Selected QoS policy on interface "eth1" only supports "['egress']"!`,
    ],
    [[['qos', 'policy', 'shaper', 'S2', 'default', 'priority', '3']], 'Bandwidth not defined for default traffic!'],
    [
      [
        ['qos', 'policy', 'shaper', 'DUP', 'bandwidth', '10mbit'],
        ['qos', 'policy', 'fair-queue', 'DUP', 'queue-limit', '100'],
      ],
      'Conflicting policy name "DUP", already in use!',
    ],
    [[['protocols', 'bgp', 'neighbor', '192.0.2.2', 'remote-as', '65001']], 'BGP system-as number must be defined!'],
    [
      [
        ['protocols', 'bgp', 'system-as', '65000'],
        ['protocols', 'bgp', 'neighbor', '192.0.2.2', 'description', 'x'],
      ],
      'Neighbor "192.0.2.2" remote-as must be set!',
    ],
    [
      [
        ['protocols', 'bgp', 'system-as', '65000'],
        ['protocols', 'bgp', 'neighbor', '192.0.2.2', 'remote-as', '65001'],
        ['protocols', 'bgp', 'neighbor', '192.0.2.2', 'address-family', 'ipv4-unicast', 'route-map', 'import', 'RM-IN'],
      ],
      'Specified route-map "RM-IN" does not exist!',
    ],
    [
      [
        ['interfaces', 'wireguard', 'wg3', 'private-key', 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28='],
        ['interfaces', 'wireguard', 'wg3', 'peer', 'p1', 'allowed-ips', '10.0.0.0/24'],
        ['interfaces', 'wireguard', 'wg3', 'peer', 'p1', 'public-key', 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd28='],
        ['interfaces', 'wireguard', 'wg3', 'peer', 'p1', 'port', '51820'],
      ],
      'Both Wireguard port and address must be defined for peer "p1" if either one of them is set!',
    ],
  ])('verify rejects %j with the upstream text', async (paths, message) => {
    const err = await rejected(v14.configure(paths.map((p) => ({ op: 'set', path: p }))));
    expect(err.vyosError).toContain(`\n${message}\n`);
    expect(err.commitFailed).toBe(true);
  });

  it('strict mode refuses to delete what does not exist', async () => {
    const c = new VyosClient({ url: lab.urls.strict!, apiKey: KEY });
    const err = await rejected(c.configure([{ op: 'delete', path: ['protocols', 'static', 'route', '192.0.2.0/24'] }]));
    expect(err.vyosError).toBe('Cannot delete [protocols static route 192.0.2.0/24]: path/value does not exist');
    await c.close();
  });

  it('refuses quotes in values and whitespace in tag values', async () => {
    const e1 = await rejected(
      v14.configure([{ op: 'set', path: ['protocols', 'static', 'route', '192.0.2.0/24', 'description'], value: 'say "hi"' }]),
    );
    expect(e1.vyosError).toContain('Cannot use the double quote (") character in a value string');
    const e2 = await rejected(
      v14.configure([{ op: 'set', path: ['policy', 'route', 'A B', 'rule', '10', 'set', 'table'], value: '10' }]),
    );
    expect(e2.vyosError).toContain('Tag node value name must not contain whitespace');
  });

  it('names malformed commands like the real server', async () => {
    const res = await post(`${lab.urls.a}/configure`, { key: KEY, op: 'set', path: 'protocols static' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toBe(
      `Malformed command '{'op': 'set', 'path': 'protocols static'}': 'path' field must be a list`,
    );
    // Shape errors come before authentication (pydantic validates first).
    const unauth = await post(`${lab.urls.a}/configure`, { key: 'wrong', op: 'set', path: [1, 2] });
    expect(JSON.parse(unauth.text).error).toBe(`Malformed command '0': 'path' field must be a list of strings`);
    const form = new URLSearchParams({ data: JSON.stringify([{ path: ['x'] }]), key: KEY });
    const res2 = await request(`${lab.urls.a}/configure`, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(JSON.parse(await res2.body.text()).error).toBe(`Malformed command '{'path': ['x']}': missing 'op' field`);
  });

  it('1.5 HTML-escapes error texts, 1.4 does not', async () => {
    const e15 = await rejected(v15.configure([{ op: 'set', path: ['protocols', '<x>'] }]));
    const raw15 = await post(`${lab.urls.b}/configure`, { key: KEY, op: 'set', path: ['protocols', '<x>'] });
    expect(JSON.parse(raw15.text).error).toContain('[protocols &lt;x&gt;]');
    expect(e15.vyosError).toContain('[protocols <x>]');
    const raw14 = await post(`${lab.urls.a}/configure`, { key: KEY, op: 'set', path: ['protocols', '<x>'] });
    expect(JSON.parse(raw14.text).error).toContain('[protocols <x>]');
  });

  it('serves /info on 1.5 only, refusing unknown query parameters', async () => {
    const ok = await request(`${lab.urls.b}/info?version=true&hostname=true`);
    expect(JSON.parse(await ok.body.text())).toMatchObject({ success: true, data: { hostname: 'b' } });
    const bad = await request(`${lab.urls.b}/info?foo=1`);
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.text()).toContain('extra_forbidden');
    const v14info = await request(`${lab.urls.a}/info`);
    expect(v14info.statusCode).toBe(404);
    expect(String(v14info.headers['content-type'])).toMatch(/text\/html/);
    await v14info.body.text();
    expect((await v15.info()).train).toBe('1.5');
  });

  it('renders raw config (config.boot) and refuses unknown formats', async () => {
    const res = await post(`${lab.urls.a}/retrieve`, {
      key: KEY,
      op: 'showConfig',
      path: ['load-balancing'],
      configFormat: 'raw',
    });
    expect(JSON.parse(res.text).data).toContain('wan {\n    interface-health eth1 {');
    const bad = await post(`${lab.urls.a}/retrieve`, { key: KEY, op: 'showConfig', path: [], configFormat: 'yaml' });
    expect(JSON.parse(bad.text).error).toBe("'yaml' is not a valid config format");
  });

  it('config-file: missing field texts per version; 1.5 loads inline config.boot text with commit-confirm', async () => {
    const r14 = await post(`${lab.urls.a}/config-file`, { key: KEY, op: 'load' });
    expect(JSON.parse(r14.text).error).toBe('Missing required field "file"');
    const r15 = await post(`${lab.urls.b}/config-file`, { key: KEY, op: 'load' });
    expect(JSON.parse(r15.text).error).toBe('Missing required field "file | string"');
    const missing = await rejected(v14.loadConfigFile('/config/nope.boot'));
    expect(missing.status).toBe(400);
    const b = lab.router('b');
    const text = `protocols {\n    static {\n        route 203.0.113.0/24 {\n            blackhole {\n            }\n        }\n    }\n}\nservice {\n    https {\n        api {\n            keys {\n                id pathpilot {\n                    key ${KEY}\n                }\n            }\n            rest {\n            }\n        }\n    }\n}\n`;
    const res = await post(`${b.url}/config-file`, { key: KEY, op: 'merge', string: text });
    expect(JSON.parse(res.text).success).toBe(true);
    expect(b.showConfig(['protocols', 'static', 'route'])).toEqual({ '203.0.113.0/24': { blackhole: {} } });
  });

  it('a commit touching service https answers with the background-commit message; removing the API disables it', async () => {
    const a = lab.router('a');
    const c = new VyosClient({ url: a.url, apiKey: KEY });
    const out = await c.configure([{ op: 'set', path: ['service', 'https', 'api', 'keys', 'id', 'second', 'key'], value: 'k2' }]);
    expect(out).toBe('Requested HTTP API server configuration change; commit will be called in the background');
    // The commit runs in the background: a verify failure there still answers success (and is discarded).
    const bad = await c.configure([{ op: 'set', path: ['service', 'https', 'api', 'keys', 'id', 'broken'] }]);
    expect(bad).toBe('Requested HTTP API server configuration change; commit will be called in the background');
    expect(a.exists(['service', 'https', 'api', 'keys', 'id', 'broken'])).toBe(false);
    const k2 = new VyosClient({ url: a.url, apiKey: 'k2' });
    expect(await k2.exists(['service', 'https'])).toBe(true);
    await c.configure([{ op: 'delete', path: ['service', 'https', 'api'] }]);
    const err = await k2.exists(['service']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VyosHttpError);
    expect((err as VyosHttpError).status).toBe(503);
    a.applyCommands([`set service https api keys id pathpilot key '${KEY}'`]);
    expect(await c.exists(['service', 'https', 'api'])).toBe(true);
    await c.close();
    await k2.close();
  });

  it('1.5 without `api rest` answers 404 like FastAPI with the routes removed', async () => {
    const b = lab.router('b');
    b.applyCommands(['delete service https api rest']);
    const res = await post(`${b.url}/retrieve`, { key: KEY, op: 'exists', path: [] });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toEqual({ detail: 'Not Found' });
    b.applyCommands(['set service https api rest']);
    expect(await v15.exists(['service', 'https', 'api', 'rest'])).toBe(true);
  });

  it('applyCommands validates like the API and applies nothing on error', () => {
    const a = lab.router('a');
    const rev = a.revision();
    expect(() => a.applyCommands(["set protocols static route 192.0.2.0/24 description 'x'", 'set protocols bogus'])).toThrow(
      /Configuration path: \[protocols bogus\] is not valid/,
    );
    expect(a.revision()).toBe(rev);
    expect(a.exists(['protocols', 'static', 'route', '192.0.2.0/24'])).toBe(false);
  });

  it('1.4 ignores confirm_time like its pydantic model (no timer armed); the client refuses to send it', async () => {
    const res = await post(`${lab.urls.a}/configure`, {
      key: KEY,
      commands: [{ op: 'set', path: ['protocols', 'static', 'table', '20', 'description'], value: 'x' }],
      confirm_time: 1,
    });
    expect(JSON.parse(res.text)).toEqual({ success: true, data: null, error: null });
    expect(lab.router('a').pendingConfirm()).toBeUndefined();
    expect(lab.router('a').returnValue(['protocols', 'static', 'table', '20', 'description'])).toBe('x');
  });

  it('1.5 reports the pending confirm on the handle until confirmed', async () => {
    const b = lab.router('b');
    await v15.configure([{ op: 'set', path: ['protocols', 'static', 'table', '21', 'description'], value: 'y' }], {
      confirmTime: 3,
    });
    expect(b.pendingConfirm()?.minutes).toBe(3);
    expect((await v15.confirm()).confirmed).toBe(true);
    expect(b.pendingConfirm()).toBeUndefined();
  });

  it('builds a client from site config, reading the key from the named env var and never exposing it', async () => {
    const site = {
      id: 'x',
      provider: 'onprem' as const,
      region: 'r',
      prefixes: [],
      router: { api_url: '', api_key_env: 'PP_TEST_VYOS_KEY', vyos_version: '1.4' as const, tls_verify: true },
    };
    const c = vyosClientForSite(site, { url: lab.urls.a!, env: { PP_TEST_VYOS_KEY: KEY } });
    expect(await c.exists(['load-balancing'])).toBe(true);
    expect(JSON.stringify(c)).not.toContain(KEY);
    expect(() => vyosClientForSite(site, { env: {} })).toThrow(/api_url is empty/);
    expect(() => vyosClientForSite(site, { url: lab.urls.a!, env: {} })).toThrow(/PP_TEST_VYOS_KEY is unset/);
    await c.close();
  });

  it('answers 413 like nginx beyond request-body-size-limit', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const res = await post(`${lab.urls.a}/retrieve`, { key: KEY, op: 'exists', path: [big] });
    expect(res.status).toBe(413);
    expect(res.text).toContain('413 Request Entity Too Large');
  });

  it('counts requests per endpoint', () => {
    expect(lab.router('a').requestCounts()['/configure']).toBeGreaterThan(5);
  });

  it('rejects bad lab specs before opening sockets', async () => {
    await expect(
      createVyosLab({
        routers: [
          { name: 'x', version: '1.4', apiKey: 'k' },
          { name: 'x', version: '1.4', apiKey: 'k' },
        ],
      }),
    ).rejects.toThrow(/duplicate router name "x"/);
    await expect(
      createVyosLab({ routers: [{ name: 'y', version: '1.4', apiKey: 'k', seed: ['set nonsense'] }] }),
    ).rejects.toThrow(/is not valid/);
    expect(() => lab.router('nope')).toThrow(/unknown emulated router "nope"/);
  });
});

describe('VyOS emulator: lab from topology, as a component', () => {
  const topology = new Topology(loadConfig(undefined, {}).root);

  it('reads each site key from its api_key_env and names the variable when unset', async () => {
    await expect(createVyosLabForTopology(topology, { env: {} })).rejects.toThrow(
      /PATHPILOT_VYOS_KEY \(router.api_key_env\) is unset/,
    );
    const lab = await createVyosLabForTopology(topology, {
      env: { PATHPILOT_VYOS_KEY: 'from-env' },
      sites: ['ali-hk', 'aws-euc1'],
    });
    try {
      expect([...lab.routers.keys()]).toEqual(['ali-hk', 'aws-euc1']);
      expect(lab.router('ali-hk').version).toBe('1.5');
      expect(lab.router('aws-euc1').version).toBe('1.4');
      const c = new VyosClient({
        url: lab.urls['ali-hk']!,
        apiKeyEnv: 'PATHPILOT_VYOS_KEY',
        env: { PATHPILOT_VYOS_KEY: 'from-env' },
      });
      expect(await c.exists(['interfaces', 'wireguard', 'wg5'])).toBe(true);
      await c.close();
    } finally {
      await lab.stop();
    }
  });

  it('starts and stops as a Component (stop idempotent, lab unavailable before start)', async () => {
    const component = createVyosLabComponent(() =>
      createVyosLabForTopology(topology, { apiKey: KEY, sites: ['gcp-usc1'], clock: new SimulatedClock() }),
    );
    expect(() => component.lab).toThrow(/not started/);
    await component.start();
    const url = component.lab.urls['gcp-usc1']!;
    const c = new VyosClient({ url, apiKey: KEY, version: '1.5' });
    expect(await c.confirm()).toEqual({ confirmed: false, message: 'No confirm pending' });
    const viaFile = await post(`${url}/config-file`, { key: KEY, op: 'confirm' });
    expect(JSON.parse(viaFile.text)).toEqual({ success: true, data: 'No confirm pending\n', error: null });
    await c.close();
    await component.stop();
    await component.stop();
    await expect(request(`${url}/retrieve`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
