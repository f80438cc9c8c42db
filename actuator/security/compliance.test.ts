import { describe, expect, it } from 'vitest';
import type { ConfigJson } from '../vyos/types.ts';
import { cloneConfig } from '../vyos/diff.ts';
import {
  assessRouters,
  complianceDelta,
  complianceRules,
  defaultComplianceContext,
  evaluateCompliance,
  type ComplianceContext,
} from './compliance.ts';
import { buildComplianceReport, complianceCsv, complianceHtml } from './compliance-report.ts';
import { proveResidency } from './residency-proof.ts';

const now = Date.UTC(2026, 11, 6, 12);
const ctx: ComplianceContext = {
  ...defaultComplianceContext(now),
  wireguardKeyTimes: new Map([['r1/wg0', now - 10 * 3_600_000]]),
};

/** A router that follows every rule of the pack. */
const hardened: ConfigJson = {
  service: {
    https: {
      api: { keys: { id: { pathpilot: { key: 'k'.repeat(32) } } }, rest: {} },
      'allow-client': { address: '10.255.0.0/24' },
      certificates: { certificate: 'api' },
    },
    ssh: { 'disable-password-authentication': {}, port: '22' },
    ntp: { server: { 'time1.example.net': {}, 'time2.example.net': {} } },
  },
  system: {
    login: { user: { vyos: { authentication: { 'public-keys': { 'ops@laptop': { key: 'AAAA', type: 'ssh-ed25519' } } } } } },
    syslog: { host: { '10.255.0.9': { facility: { all: { level: 'info' } } } } },
  },
  firewall: {
    ipv4: {
      forward: {
        filter: {
          'default-action': 'drop',
          rule: {
            '10': { action: 'accept', state: 'established' },
            '20': { action: 'accept', destination: { port: '443' }, protocol: 'tcp' },
          },
        },
      },
    },
    ipv6: { forward: { filter: { 'default-action': 'drop' } } },
  },
  interfaces: { wireguard: { wg0: { 'private-key': 'x' } } },
  vpn: {
    ipsec: {
      'ike-group': {
        IKE: { 'key-exchange': 'ikev2', proposal: { '1': { encryption: 'aes256gcm128', hash: 'sha256', 'dh-group': '19' } } },
      },
      'esp-group': { ESP: { pfs: 'dh-group19', proposal: { '1': { encryption: 'aes256gcm128', hash: 'sha256' } } } },
    },
  },
};

function failing(config: ConfigJson, c: ComplianceContext = ctx) {
  return evaluateCompliance('r1', config, c)
    .results.filter((r) => r.status === 'fail')
    .map((r) => [r.id, r.findings.map((f) => f.path)] as const);
}

/** The hardened config with one change. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the tree by its known paths
function weaken(edit: (c: any) => void): ConfigJson {
  const c = cloneConfig(hardened);
  edit(c);
  return c;
}

describe('compliance rules pack', () => {
  it('passes every rule on a hardened router (score 100)', () => {
    const r = evaluateCompliance('r1', hardened, ctx);
    expect(r.results.filter((x) => x.status !== 'pass')).toEqual([]);
    expect(r.score).toBe(100);
  });

  it('fails each rule on its own weakness, naming the config path at fault', () => {
    expect(failing(weaken((c) => delete c.service.https.api.keys))).toEqual([['PP-API-1', ['service https api keys']]]);
    expect(failing(weaken((c) => (c.service.https.api.keys.id.pathpilot.key = 'short')))).toEqual([
      ['PP-API-2', ['service https api keys id pathpilot key']],
    ]);
    expect(failing(weaken((c) => delete c.service.https['allow-client']))).toEqual([
      ['PP-API-3', ['service https allow-client']],
    ]);
    expect(failing(weaken((c) => delete c.service.https.certificates))).toEqual([['PP-API-4', ['service https certificates']]]);
    expect(failing(weaken((c) => (c.service.snmp = { community: { public: { authorization: 'ro' } } })))).toEqual([
      ['PP-MGMT-1', ['service snmp community <community 1>']],
    ]);
    expect(failing(weaken((c) => delete c.service.ssh['disable-password-authentication']))).toEqual([
      ['PP-SSH-1', ['service ssh disable-password-authentication']],
    ]);
    expect(failing(weaken((c) => (c.system.login.user.ops = { authentication: { 'encrypted-password': '$6$x' } })))).toEqual([
      ['PP-SSH-1', ['system login user ops authentication public-keys']],
    ]);
    expect(
      failing(weaken((c) => (c.firewall.ipv4.forward.filter.rule['30'] = { action: 'accept', description: 'temp' }))),
    ).toEqual([['PP-FW-1', ['firewall ipv4 forward filter rule 30']]]);
    // IPv6 forwarding is checked where an interface has an IPv6 address (not a link-local one).
    expect(failing(weaken((c) => delete c.firewall.ipv6))).toEqual([]);
    const v6 = (address: string) =>
      weaken((c) => {
        delete c.firewall.ipv6;
        c.interfaces.ethernet = { eth0: { address: ['192.0.2.1/24', address] } };
      });
    expect(failing(v6('2001:db8::1/64'))).toEqual([['PP-FW-2', ['firewall ipv6 forward filter default-action']]]);
    expect(failing(v6('fe80::1/64'))).toEqual([]);
    expect(
      failing(
        weaken((c) => {
          c.vpn.ipsec['ike-group'].IKE['key-exchange'] = 'ikev1';
          c.vpn.ipsec['ike-group'].IKE.proposal['1'] = { encryption: '3des', hash: 'md5', 'dh-group': '2' };
          c.vpn.ipsec['esp-group'].ESP.pfs = 'disable';
        }),
      ),
    ).toEqual([
      [
        'PP-VPN-1',
        [
          'vpn ipsec ike-group IKE proposal 1 encryption',
          'vpn ipsec ike-group IKE proposal 1 hash',
          'vpn ipsec ike-group IKE proposal 1 dh-group',
          'vpn ipsec ike-group IKE key-exchange',
          'vpn ipsec esp-group ESP pfs',
        ],
      ],
    ]);
    expect(failing(weaken((c) => delete c.system.syslog))).toEqual([['PP-LOG-1', ['system syslog host']]]);
    expect(failing(weaken((c) => delete c.service.ntp))).toEqual([['PP-NTP-1', ['service ntp server']]]);
  });

  it('a disabled or narrowed accept rule is not any-to-any; AEAD proposals need no separate hash', () => {
    expect(failing(weaken((c) => (c.firewall.ipv4.forward.filter.rule['30'] = { action: 'accept', disable: {} })))).toEqual([]);
    expect(
      failing(
        weaken(
          (c) =>
            (c.firewall.ipv4.input = { filter: { rule: { '5': { action: 'accept', 'inbound-interface': { name: 'eth9' } } } } }),
        ),
      ),
    ).toEqual([]);
    expect(
      failing(weaken((c) => (c.vpn.ipsec['esp-group'].ESP.proposal['1'] = { encryption: 'chacha20poly1305', hash: 'sha1' }))),
    ).toEqual([]);
  });

  it('WireGuard keys: too old or of unknown age fail against the policy', () => {
    const old = { ...ctx, wireguardKeyTimes: new Map([['r1/wg0', now - 100 * 3_600_000]]) };
    expect(failing(hardened, old)).toEqual([['PP-WG-1', ['interfaces wireguard wg0 private-key']]]);
    const unknown = evaluateCompliance('r1', hardened, defaultComplianceContext(now));
    expect(unknown.results.find((r) => r.id === 'PP-WG-1')!.findings[0]!.detail).toMatch(/no record/);
  });

  it('rules about services a router does not run are n/a and leave the score alone', () => {
    const bare: ConfigJson = {
      firewall: {
        ipv4: { forward: { filter: { 'default-action': 'drop' } } },
        ipv6: { forward: { filter: { 'default-action': 'reject' } } },
      },
    };
    const r = evaluateCompliance('r1', bare, ctx);
    const status = Object.fromEntries(r.results.map((x) => [x.id, x.status]));
    expect(status).toMatchObject({
      'PP-API-1': 'n/a',
      'PP-SSH-1': 'n/a',
      'PP-VPN-1': 'n/a',
      'PP-WG-1': 'n/a',
      'PP-FW-2': 'pass',
      'PP-LOG-1': 'fail',
    });
    // Passing: FW-1 (3), FW-2 (3), MGMT-1 (3); failing: LOG-1 (2), NTP-1 (2) → 9 / 13.
    expect(r.score).toBe(69.2);
  });

  it('every rule maps to a control of each framework', () => {
    for (const rule of complianceRules)
      for (const ids of Object.values(rule.controls)) expect(ids.length, rule.id).toBeGreaterThan(0);
    expect(new Set(complianceRules.map((r) => r.id)).size).toBe(complianceRules.length);
  });

  it('delta: a change that adds an any-to-any rule to an already failing firewall is seen', () => {
    const before = evaluateCompliance(
      'r1',
      weaken((c) => (c.firewall.ipv4.forward.filter.rule['30'] = { action: 'accept' })),
      ctx,
    );
    const after = evaluateCompliance(
      'r1',
      weaken((c) => {
        c.firewall.ipv4.forward.filter.rule['30'] = { action: 'accept' };
        c.firewall.ipv4.forward.filter.rule['40'] = { action: 'accept' };
      }),
      ctx,
    );
    const d = complianceDelta(before, after);
    expect(d.added.map((a) => [a.rule, a.finding.path])).toEqual([['PP-FW-1', 'firewall ipv4 forward filter rule 40']]);
    expect(d.removed).toEqual([]);
    expect(complianceDelta(after, evaluateCompliance('r1', hardened, ctx)).removed).toHaveLength(2);
  });

  it('an unreadable router is reported with its error, not dropped', async () => {
    const r = await assessRouters(
      [
        { name: 'r1', api: { showConfig: async () => hardened } },
        { name: 'down', api: { showConfig: async () => Promise.reject(new Error('connect ECONNREFUSED')) } },
      ],
      ctx,
    );
    expect(r.map((x) => [x.router, x.score, x.error ?? null])).toEqual([
      ['r1', 100, null],
      ['down', null, 'could not read the running config: connect ECONNREFUSED'],
    ]);
  });
});

describe('compliance report', () => {
  it('CSV: one row per finding with its control ids, quoted where needed; HTML escapes config text', () => {
    const weak = weaken((c) => (c.firewall.ipv4.forward.filter.rule['30'] = { action: 'accept' }));
    const report = buildComplianceReport([evaluateCompliance('r<1>', weak, ctx)], now);
    const csv = complianceCsv(report).trim().split('\n');
    expect(csv[0]).toBe('router,rule,title,severity,status,path,detail,cis,soc2,iso27001,pci');
    expect(csv).toContain(
      'r<1>,PP-FW-1,No any-to-any accept rule,high,fail,firewall ipv4 forward filter rule 30,accepts any source to any destination on any protocol,4.4 13.4,CC6.6,A.8.20,1.2.1 1.3.1',
    );
    expect(csv.length).toBe(1 + complianceRules.length);
    expect(report.frameworks.soc2['CC6.6']).toEqual(['PP-API-3', 'PP-FW-1', 'PP-FW-2']);
    const html = complianceHtml(report);
    expect(html).toContain('r&lt;1&gt;');
    expect(html).not.toContain('<h2 id="r<1>"');
    expect(html).toMatch(/tr class="fail"><td>PP-FW-1/);
    expect(html).not.toContain('Data residency');
    expect('residency' in report).toBe(false);
  });

  it('residency: a section per rule, violated first; CSV rows under the same header; an unread store says why', () => {
    const root = {
      sites: [
        { id: 'fra', region: 'eu-central', prefixes: ['10.1.0.0/16'] },
        { id: 'nyc', region: 'us-east', prefixes: ['10.3.0.0/16'] },
      ],
      links: [{ id: 'fra-nyc', a: { site: 'fra' }, b: { site: 'nyc' } }],
      policy: {
        residency: [
          { name: 'us-<ok>', classes: [], dst_prefixes: ['10.3.0.0/16'], regions: ['us-*', 'eu-*'] },
          { name: 'eu-only', classes: ['realtime'], dst_prefixes: [], regions: ['eu-*'] },
          { name: 'idle', classes: ['bulk'], dst_prefixes: [], regions: ['eu-*'] },
        ],
      },
    };
    const rules = proveResidency(root, [{ src_site: 'fra', dst_site: 'nyc', link: 'fra-nyc', class: 'realtime', bytes: 12.3e9 }]);
    const window = { from: '2026-12-05T12:00:00.000Z', to: '2026-12-06T12:00:00.000Z' };
    const report = buildComplianceReport([evaluateCompliance('r1', hardened, ctx)], now, { ...window, rules });
    const csv = complianceCsv(report).trim().split('\n');
    expect(csv[0]).toBe('router,rule,title,severity,status,path,detail,cis,soc2,iso27001,pci');
    expect(csv.filter((l) => l.includes('RESIDENCY:'))).toEqual([
      ',RESIDENCY:us-<ok>,"Data residency: traffic stays in us-*, eu-*",,proven,region eu-central,class realtime: 12300000000 bytes,,,,',
      ',RESIDENCY:us-<ok>,"Data residency: traffic stays in us-*, eu-*",,proven,region us-east,class realtime: 12300000000 bytes,,,,',
      ',RESIDENCY:eu-only,Data residency: traffic stays in eu-*,,violated,region eu-central,class realtime: 12300000000 bytes,,,,',
      ',RESIDENCY:eu-only,Data residency: traffic stays in eu-*,,violated,region us-east,"class realtime: 12300000000 bytes, outside",,,,',
      'fra,RESIDENCY:eu-only,Data residency: traffic stays in eu-*,,violated,link fra-nyc → region us-east,class realtime: 12300000000 bytes left the allowed regions,,,,',
      `,RESIDENCY:idle,Data residency: traffic stays in eu-*,,no-traffic,,no bound traffic from ${window.from} to ${window.to},,,,`,
    ]);

    const html = complianceHtml(report);
    expect(html).toContain('<h2 id="residency">Data residency</h2>');
    const order = ['<h3>eu-only: violated</h3>', '<h3>us-&lt;ok&gt;: proven</h3>', '<h3>idle: no-traffic</h3>'].map((h) =>
      html.indexOf(h),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('<tr class="fail"><td>realtime</td><td>fra</td><td>fra-nyc</td><td>us-east</td><td>12.3 GB</td></tr>');
    expect(html).toContain(
      'Binds class realtime towards every destination; allowed regions: eu-*. Bound traffic: 0 B inside, 12.3 GB outside.',
    );
    expect(html).toContain(
      'Binds every class towards 10.3.0.0/16; allowed regions: us-*, eu-*. Bound traffic: 12.3 GB inside, 0 B outside.',
    );

    const unread = buildComplianceReport([], now, { ...window, error: 'could not read the flow data: ECONNREFUSED', rules: [] });
    expect(complianceCsv(unread)).toContain(',RESIDENCY,Data residency,,error,,could not read the flow data: ECONNREFUSED,,,,');
    expect(complianceHtml(unread)).toContain('<p class="err">could not read the flow data: ECONNREFUSED</p>');
    expect(JSON.parse(JSON.stringify(report)).residency.rules).toHaveLength(3);
  });
});
