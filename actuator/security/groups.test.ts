import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../core/clock.ts';
import { parseLocated } from '../../core/located-json.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import { diffOps } from '../vyos/diff.ts';
import { planFirewall, securityGroupsSchema } from './groups.ts';

const fixture = readFileSync('test/fixtures/security/groups.json', 'utf8');
const at = Date.UTC(2026, 0, 5);

describe('security groups', () => {
  it('plans VyOS forward-filter rules: groups in their own blocks, a time window as the router matches it', () => {
    const file = parseLocated('groups.json', fixture, securityGroupsSchema).data;
    const plan = planFirewall(file, 'UTC', at);
    expect(plan.groups.map((g) => [g.name, g.chain, g.first, g.rules.length])).toEqual([
      ['web', 'forward', 10_000, 11],
      ['deny-rest', 'forward', 11_000, 1],
    ]);
    // Every rule names an IPv4 address: the IPv4 forward chain only.
    expect(plan.chains.map((c) => `${c.family} ${c.chain}`)).toEqual(['ipv4 forward']);
    const rules = plan.chains[0]!.rules;
    expect(rules['10000']).toEqual({
      action: 'accept',
      description: 'pathpilot sg web rule 1',
      protocol: 'tcp',
      destination: { address: '10.51.10.0/24', port: '80,443' },
    });
    // 09:00–17:00 Los Angeles on a UTC router: Monday from 17:00 to the end of the UTC day (no stop: VyOS
    // matches `hour < stop`), Tuesday 00:00 to 01:00, and so on.
    expect(rules['10005']).toMatchObject({
      description: 'pathpilot sg web rule 2 part 1',
      source: { address: '10.50.0.0/16' },
    });
    expect(rules['10005']!['time']).toEqual({ weekdays: 'Mon', starttime: '17:00:00' });
    expect(rules['10010']!['time']).toEqual({ weekdays: 'Tue', starttime: '00:00:00', stoptime: '01:00:00' });
    expect(rules['11000']).toEqual({
      action: 'drop',
      description: 'pathpilot sg deny-rest rule 1',
      destination: { address: '10.51.10.0/24' },
    });
    expect(plan.defaultAction).toBe('accept');
  });

  it('renders rules VyOS 1.4 and 1.5 commit', () => {
    const plan = planFirewall(parseLocated('groups.json', fixture, securityGroupsSchema).data, 'UTC', at);
    for (const version of ['1.4', '1.5'] as const) {
      const router = new EmulatedRouter({ name: `r${version}`, version, apiKey: 'k' }, new SimulatedClock(at));
      const ops = diffOps(['firewall', 'ipv4', 'forward', 'filter', 'rule'], null, plan.chains[0]!.rules);
      router.configure([
        ...ops.map((o) => ({ ...o, op: o.op as 'set' | 'delete' })),
        { op: 'set', path: ['firewall', 'ipv4', 'forward', 'filter', 'default-action', plan.defaultAction!] },
      ]);
      expect(Object.keys(router.showConfig(['firewall', 'ipv4', 'forward', 'filter', 'rule']) as object)).toHaveLength(12);
    }
  });

  it('renders IPv6 rules to the ipv6 chain, a rule naming no address to both, input groups to the input chain', () => {
    const file = parseLocated(
      'v6.json',
      JSON.stringify({
        SecurityGroups: [
          {
            Name: 'web6',
            Rules: [
              { Protocol: 'tcp', PortRange: '443', DestinationIP: '2001:db8:51:10::/64', Action: 'Allow' },
              { Protocol: 'icmp', Action: 'Allow' },
              { Protocol: 'udp', SourceIP: '10.50.0.0/16', Action: 'Deny' },
            ],
          },
          {
            Name: 'mgmt',
            Chain: 'input',
            Rules: [{ Protocol: 'tcp', PortRange: '443', SourceIP: '2001:db8:ff::/48', Action: 'Allow' }],
          },
        ],
      }),
      securityGroupsSchema,
    ).data;
    const plan = planFirewall(file, 'UTC', at);
    const chain = (family: string, hook: string) => plan.chains.find((c) => c.family === family && c.chain === hook)?.rules;
    expect(plan.chains.map((c) => `${c.family} ${c.chain}`)).toEqual(['ipv4 forward', 'ipv6 forward', 'ipv6 input']);
    // The same number in each family; nftables names IPv6's ICMP ipv6-icmp.
    expect(chain('ipv6', 'forward')).toEqual({
      '10000': {
        action: 'accept',
        description: 'pathpilot sg web6 rule 1',
        protocol: 'tcp',
        destination: { address: '2001:db8:51:10::/64', port: '443' },
      },
      '10005': { action: 'accept', description: 'pathpilot sg web6 rule 2', protocol: 'ipv6-icmp' },
    });
    expect(chain('ipv4', 'forward')).toEqual({
      '10005': { action: 'accept', description: 'pathpilot sg web6 rule 2', protocol: 'icmp' },
      '10010': { action: 'drop', description: 'pathpilot sg web6 rule 3', protocol: 'udp', source: { address: '10.50.0.0/16' } },
    });
    expect(Object.keys(chain('ipv6', 'input')!)).toEqual(['11000']);
    // Both 1.4 and 1.5 commit every chain.
    for (const version of ['1.4', '1.5'] as const) {
      const router = new EmulatedRouter({ name: `r${version}`, version, apiKey: 'k' }, new SimulatedClock(at));
      for (const c of plan.chains) {
        const base = ['firewall', c.family, c.chain, 'filter', 'rule'];
        router.configure(diffOps(base, null, c.rules).map((o) => ({ ...o, op: o.op as 'set' | 'delete' })));
        expect(Object.keys(router.showConfig(base) as object)).toEqual(Object.keys(c.rules));
      }
    }
    // One rule, one family.
    expect(() =>
      parseLocated(
        'mixed.json',
        '{"SecurityGroups":[{"Name":"x","Rules":[{"Protocol":"tcp","SourceIP":"10.0.0.0/8","DestinationIP":"2001:db8::/32","Action":"Allow"}]}]}',
        securityGroupsSchema,
      ),
    ).toThrow(/DestinationIP: SourceIP 10\.0\.0\.0\/8 and DestinationIP 2001:db8::\/32 are of different IP families/);
  });

  it('names the file, line, column and field of every problem', () => {
    const bad = `{
  "SecurityGroups": [
    { "Name": "web", "Rules": [
      { "Protocol": "icmp", "PortRange": "80", "DestinationIP": "10.0.0.1/24", "Action": "Allow" },
      { "Protocol": "tcp", "PortRange": "90-80", "Action": "Maybe",
        "TimeWindow": { "Weekdays": ["Funday"], "Start": "9:00", "Stop": "17:00", "TimeZone": "Mars/Olympus" } }
    ] },
    { "Name": "web", "Rules": [{ "Protocol": "udp", "Action": "Deny" }] }
  ]
}`;
    let message = '';
    try {
      parseLocated('groups.json', bad, securityGroupsSchema);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /groups\.json:4:\d+: SecurityGroups\[0\]\.Rules\[0\]\.DestinationIP: an IPv4 or IPv6 address, a network with its host bits zero/,
    );
    expect(message).toMatch(
      /groups\.json:4:\d+: SecurityGroups\[0\]\.Rules\[0\]\.PortRange: ports need Protocol tcp, udp or tcp_udp \(not icmp\)/,
    );
    expect(message).toMatch(
      /groups\.json:5:\d+: SecurityGroups\[0\]\.Rules\[1\]\.PortRange: ports are 1–65535 and a range runs low to high/,
    );
    expect(message).toMatch(/groups\.json:5:\d+: SecurityGroups\[0\]\.Rules\[1\]\.Action/);
    expect(message).toMatch(/groups\.json:6:\d+: SecurityGroups\[0\]\.Rules\[1\]\.TimeWindow\.Weekdays\[0\]/);
    expect(message).toMatch(/groups\.json:6:\d+: SecurityGroups\[0\]\.Rules\[1\]\.TimeWindow\.Start: a time of day, HH:MM/);
    expect(message).toMatch(/groups\.json:6:\d+: SecurityGroups\[0\]\.Rules\[1\]\.TimeWindow\.TimeZone: an IANA time zone/);
    // Names are compared once every group is well formed.
    const twice = `{ "SecurityGroups": [
  { "Name": "web", "Rules": [{ "Protocol": "udp", "Action": "Deny" }] },
  { "Name": "web", "Rules": [{ "Protocol": "udp", "Action": "Deny" }] }
] }`;
    expect(() => parseLocated('groups.json', twice, securityGroupsSchema)).toThrow(
      /groups\.json:3:\d+: SecurityGroups\[1\]\.Name: "web" is also group 0/,
    );
  });
});
