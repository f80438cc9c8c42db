/**
 * Security groups through the actuator over the routers' HTTP API (issue 18): the groups in
 * test/fixtures/security/groups.json — web ports from anywhere, an 8000–8100 range from Frankfurt only
 * during Los Angeles office hours, everything else to the web subnet denied — planned for a router on UTC,
 * applied to onprem-nyc (VyOS 1.5) by one approved proposal, then judged flow by flow at simulated times
 * by the emulator's forward chain (nftables' frames: hours in UTC, days in the kernel's zone). Then a
 * threat feed: its networks as a network group and a drop rule in one rollout, the allow-list kept out.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFirewall, securityGroupsSchema, FIRST_RULE, GROUP_BLOCK } from '../../../actuator/security/groups.ts';
import { parseFeed, planThreatGroup } from '../../../actuator/security/threat-feed.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { parseLocated } from '../../../core/located-json.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { forwardVerdict, type Packet } from '../../../lab/vyos/firewall-eval.ts';
import type { EmulatedRouter } from '../../../lab/vyos/router.ts';
import type { ConfigJson } from '../../../lab/vyos/types.ts';
import { rollOut, startLabActuator, type LabRig } from './support.ts';

const NYC = 'onprem-nyc';
let rig: LabRig;
let actuator: Actuator;
let lab: Awaited<ReturnType<typeof startLabActuator>>;

beforeAll(async () => {
  lab = await startLabActuator();
  rig = lab.rig;
  actuator = lab.actuator;
});
afterAll(async () => {
  await lab?.stop();
});

/** Monday 5 January 2026 plus hours (UTC). */
const monday = (h: number) => Date.UTC(2026, 0, 5, h);

describe('security groups through the actuator', () => {
  it('a time-windowed rule allows its flows only in the window; the rest of the group’s subnet is denied; other rules untouched', async () => {
    const router = rig.lab.router(NYC) as unknown as EmulatedRouter;
    // An operator rule outside pathpilot's block stays as it is.
    router.configure([
      { op: 'set', path: ['firewall', 'ipv4', 'forward', 'filter', 'rule', '5', 'action', 'accept'] },
      { op: 'set', path: ['firewall', 'ipv4', 'forward', 'filter', 'rule', '5', 'protocol', 'icmp'] },
    ]);
    const groups = parseLocated(
      'groups.json',
      readFileSync('test/fixtures/security/groups.json', 'utf8'),
      securityGroupsSchema,
    ).data;
    const plan = planFirewall(groups, 'UTC', monday(0));
    const intents: ProposalInput['intents'] = [
      {
        kind: 'firewall-rules',
        router: NYC,
        first: FIRST_RULE,
        last: FIRST_RULE + GROUP_BLOCK * groups.SecurityGroups.length - 1,
        rules: plan.rules,
      },
    ];
    expect(await rollOut(actuator, 'security', intents, 'security groups web, deny-rest')).toBe('confirmed');

    const config = router.showConfig([]) as ConfigJson;
    const verdict = (p: Packet, at: number) => forwardVerdict(config, p, at).action;
    const fromFra: Packet = { protocol: 'tcp', source: '10.50.3.4', destination: '10.51.10.20', destinationPort: 8080 };
    // Monday 10:00 and 16:59 in Los Angeles: allowed; 08:59 and 17:00: denied; Saturday 10:00: denied.
    expect(verdict(fromFra, monday(18))).toBe('accept');
    expect(verdict(fromFra, monday(24) + 59 * 60_000)).toBe('accept');
    expect(verdict(fromFra, monday(16) + 59 * 60_000)).toBe('drop');
    expect(verdict(fromFra, monday(25))).toBe('drop');
    expect(verdict(fromFra, Date.UTC(2026, 0, 10, 18))).toBe('drop');
    // The same port from elsewhere: never in the window's rule, denied by the group after it.
    expect(verdict({ ...fromFra, source: '10.10.1.1' }, monday(18))).toBe('drop');
    // Web ports from anywhere at any time; other subnets fall to the default action (accept).
    expect(verdict({ ...fromFra, source: '198.51.100.7', destinationPort: 443 }, Date.UTC(2026, 0, 11, 3))).toBe('accept');
    expect(verdict({ protocol: 'udp', source: '10.50.3.4', destination: '10.51.10.20', destinationPort: 53 }, monday(18))).toBe(
      'drop',
    );
    expect(verdict({ protocol: 'udp', source: '10.50.3.4', destination: '10.51.99.1', destinationPort: 53 }, monday(18))).toBe(
      'accept',
    );
    // The operator's rule 5 is still there and decides first for ICMP.
    expect(
      forwardVerdict(config, { protocol: 'icmp', source: '10.50.3.4', destination: '10.51.10.20' }, monday(18)),
    ).toMatchObject({
      action: 'accept',
      rule: 5,
    });
  });

  it('a threat feed update blocks a hostile source within one rollout; the allow-list holds; a bad feed changes nothing', async () => {
    const router = rig.lab.router(NYC) as unknown as EmulatedRouter;
    // Own sites and the routers' API addresses are never blocked, whatever a feed says.
    const allow = ['10.0.0.0/8', '127.0.0.0/8'];
    const hostile: Packet = { protocol: 'tcp', source: '203.0.113.66', destination: '10.51.10.20', destinationPort: 443 };
    const ownSite: Packet = { ...hostile, source: '10.51.2.2' };
    const now = monday(18);
    expect(forwardVerdict(router.showConfig([]) as ConfigJson, hostile, now).action).toBe('accept');

    const feed = '; Spamhaus DROP List\n203.0.113.64/29 ; SBL000001\n10.51.0.0/16 ; SBL000002\n198.51.100.0/24 ; SBL000003\n';
    const { networks, problems } = parseFeed('drop.txt', feed);
    expect(problems).toEqual([]);
    const group = planThreatGroup(networks, allow, 5000);
    expect(group.allowed).toEqual([{ network: '10.51.0.0/16', allow: '10.0.0.0/8' }]);
    const intents: ProposalInput['intents'] = [
      { kind: 'firewall-group', router: NYC, group: 'pp-threat', networks: group.networks, description: 'pathpilot threat feed' },
      {
        kind: 'firewall-rules',
        router: NYC,
        first: 9000,
        last: 9099,
        rules: {
          '9000': { action: 'drop', description: 'pathpilot threat feed', source: { group: { 'network-group': 'pp-threat' } } },
        },
      },
    ];
    expect(await rollOut(actuator, 'security', intents, 'threat feed drop.txt: 2 networks')).toBe('confirmed');
    const config = router.showConfig([]) as ConfigJson;
    expect(forwardVerdict(config, hostile, now)).toMatchObject({ action: 'drop', rule: 9000 });
    expect(forwardVerdict(config, ownSite, now)).toMatchObject({ action: 'accept', rule: 10000 });

    // A feed with a bad line is refused with its line; the router keeps the group it has.
    const bad = parseFeed('drop.txt', '203.0.113.64/29 ; SBL000001\n203.0.113.999 ; SBL000004\n');
    expect(bad.problems).toEqual(['drop.txt:2: "203.0.113.999" is not an IPv4 address or network (host bits zero)']);
    expect(router.returnValues(['firewall', 'group', 'network-group', 'pp-threat', 'network'])).toEqual([
      '203.0.113.64/29',
      '198.51.100.0/24',
    ]);
  });
});
