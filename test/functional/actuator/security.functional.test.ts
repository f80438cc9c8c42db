/**
 * Security groups through the actuator over the routers' HTTP API (issue 18): the groups in
 * test/fixtures/security/groups.json — web ports from anywhere, an 8000–8100 range from Frankfurt only
 * during Los Angeles office hours, everything else to the web subnet denied — planned for a router on UTC,
 * applied to onprem-nyc (VyOS 1.5) by one approved proposal, then judged flow by flow at simulated times
 * by the emulator's forward chain (nftables' frames: hours in UTC, days in the kernel's zone). Then a
 * threat feed: its networks as a network group and a drop rule in one rollout, the allow-list kept out.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFirewall, securityGroupsSchema, FIRST_RULE, GROUP_BLOCK } from '../../../actuator/security/groups.ts';
import { parseFeed, planThreatGroup } from '../../../actuator/security/threat-feed.ts';
import { createActuator } from '../../../actuator/index.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { parseLocated } from '../../../core/located-json.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { forwardVerdict, type Packet } from '../../../lab/vyos/firewall-eval.ts';
import type { EmulatedRouter } from '../../../lab/vyos/router.ts';
import type { ConfigJson } from '../../../lab/vyos/types.ts';
import { rollOut, startLabActuator, testRoot, type LabRig } from './support.ts';

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
        rules: plan.chains.find((c) => c.family === 'ipv4' && c.chain === 'forward')!.rules,
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

describe('the threat-feed watch', () => {
  it('reads a feed file, proposes its networks minus the allow-list on the routers, keeps the last good set on a bad read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-feeds-'));
    const drop = join(dir, 'drop.txt');
    // 10.51.0.0/16 is onprem-nyc's own prefix: never blocked, whatever the feed says.
    writeFileSync(drop, '; Spamhaus DROP List\n203.0.113.64/29 ; SBL1\n10.51.0.0/16 ; SBL2\n');
    const queue = new MemoryQueue();
    await queue.start();
    const registry = createRegistry();
    const watched = createActuator(
      { root: testRoot(), queue, clock: new RealClock(), routerFor: rig.routerFor, env: {}, registry },
      { gitops_dir: '', threat_feeds: { interval_s: 0, feeds: [{ name: 'spamhaus-drop', file: drop }], routers: [NYC] } },
    );
    await watched.start();
    try {
      const first = await watched.service.checkThreatFeeds();
      expect(first!.proposal.reason).toBe('threat feeds spamhaus-drop: 1 networks dropped, 1 left out by the allow-list');
      expect(first!.proposal.intents).toEqual([
        {
          kind: 'firewall-group',
          router: NYC,
          group: 'pp-threat',
          networks: ['203.0.113.64/29'],
          description: 'pathpilot threat feeds',
        },
        {
          kind: 'firewall-rules',
          router: NYC,
          first: 9000,
          last: 9000,
          rules: {
            '9000': {
              action: 'drop',
              description: 'pathpilot threat feeds',
              source: { group: { 'network-group': 'pp-threat' } },
            },
          },
        },
      ]);
      // Nothing changed: no new proposal.
      expect(await watched.service.checkThreatFeeds()).toBeUndefined();
      // A bad download: the last good networks stay, an error is counted, nothing is proposed.
      writeFileSync(drop, '203.0.113.64/29\n203.0.113.999\n');
      expect(await watched.service.checkThreatFeeds()).toBeUndefined();
      const m = await metricValues(registry);
      expect(m['pathpilot_threat_feed_errors_total{feed="spamhaus-drop"}']).toBe(1);
      expect(m['pathpilot_threat_feed_entries{feed="spamhaus-drop"}']).toBe(2);
      expect(m['pathpilot_threat_feed_last_success_timestamp_seconds{feed="spamhaus-drop"}']).toBeGreaterThan(0);
      // A new network: a new proposal supersedes the undecided one; approved, the router drops the source.
      writeFileSync(drop, '203.0.113.64/29\n198.51.100.0/24\n');
      const second = await watched.service.checkThreatFeeds();
      expect((await watched.get(first!.proposal.id))!.proposal.status).toBe('rejected');
      await watched.approve(second!.proposal.id, 'api:alice');
      await watched.service.idle();
      expect((await watched.get(second!.proposal.id))!.proposal.status).toBe('confirmed');
      const config = (rig.lab.router(NYC) as unknown as EmulatedRouter).showConfig([]) as ConfigJson;
      const hostile: Packet = { protocol: 'tcp', source: '198.51.100.7', destination: '10.51.10.20', destinationPort: 443 };
      expect(forwardVerdict(config, hostile, Date.now())).toMatchObject({ action: 'drop', rule: 9000 });
      expect(forwardVerdict(config, { ...hostile, source: '10.51.2.2' }, Date.now()).action).toBe('accept');
    } finally {
      await watched.stop();
      await queue.stop();
    }
  });
});
