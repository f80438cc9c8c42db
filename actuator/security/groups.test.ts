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
    expect(plan.groups.map((g) => [g.name, g.first, g.rules.length])).toEqual([
      ['web', 10_000, 11],
      ['deny-rest', 11_000, 1],
    ]);
    expect(plan.rules['10000']).toEqual({
      action: 'accept',
      description: 'pathpilot sg web rule 1',
      protocol: 'tcp',
      destination: { address: '10.51.10.0/24', port: '80,443' },
    });
    // 09:00–17:00 Los Angeles on a UTC router: Monday from 17:00 to the end of the UTC day (no stop: VyOS
    // matches `hour < stop`), Tuesday 00:00 to 01:00, and so on.
    expect(plan.rules['10005']).toMatchObject({
      description: 'pathpilot sg web rule 2 part 1',
      source: { address: '10.50.0.0/16' },
    });
    expect(plan.rules['10005']!['time']).toEqual({ weekdays: 'Mon', starttime: '17:00:00' });
    expect(plan.rules['10010']!['time']).toEqual({ weekdays: 'Tue', starttime: '00:00:00', stoptime: '01:00:00' });
    expect(plan.rules['11000']).toEqual({
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
      const ops = diffOps(['firewall', 'ipv4', 'forward', 'filter', 'rule'], null, plan.rules);
      router.configure([
        ...ops.map((o) => ({ ...o, op: o.op as 'set' | 'delete' })),
        { op: 'set', path: ['firewall', 'ipv4', 'forward', 'filter', 'default-action', plan.defaultAction!] },
      ]);
      expect(Object.keys(router.showConfig(['firewall', 'ipv4', 'forward', 'filter', 'rule']) as object)).toHaveLength(12);
    }
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
      /groups\.json:4:\d+: SecurityGroups\[0\]\.Rules\[0\]\.DestinationIP: an IPv4 address, a network with its host bits zero/,
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
