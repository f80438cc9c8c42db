/**
 * Security groups kept as desired state across a daylight-saving change (issue 18): a group allows
 * Frankfurt into the web subnet 09:00–17:00 Los Angeles time on weekdays, on a router on UTC. The watch
 * proposes the rules; once applied, a week later the US clocks move forward (8 March 2026), the window
 * moves an hour earlier in UTC, and the rules rendered in winter are an hour late — the watch sees its
 * plan differ from the router and proposes the re-rendered rules, naming the offset change. Judged flow by
 * flow by the emulator's forward chain (nftables' frames). A file that does not parse proposes nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActuator } from '../../../actuator/index.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { forwardVerdict, type Packet } from '../../../lab/vyos/firewall-eval.ts';
import type { ConfigJson } from '../../../lab/vyos/types.ts';
import { startLab, testRoot, type LabRig } from './support.ts';

const NYC = 'onprem-nyc';

/** Real sleeps, a calendar the test sets: the watch renders at the day the test says it is. */
class ShiftedClock extends RealClock {
  offsetMs = 0;
  override now(): number {
    return Date.now() + this.offsetMs;
  }
  setNow(at: number): void {
    this.offsetMs = at - Date.now();
  }
}

let rig: LabRig;
let actuator: Actuator;
let queue: MemoryQueue;
let dir: string;
const clock = new ShiftedClock();
const registry = createRegistry();

const groups = {
  SecurityGroups: [
    {
      Name: 'office',
      Rules: [
        {
          Protocol: 'tcp',
          PortRange: '8080',
          SourceIP: '10.50.0.0/16',
          DestinationIP: '10.51.10.0/24',
          Action: 'Allow',
          TimeWindow: {
            Weekdays: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
            Start: '09:00',
            Stop: '17:00',
            TimeZone: 'America/Los_Angeles',
          },
        },
      ],
    },
    { Name: 'deny-rest', Rules: [{ Protocol: 'all', DestinationIP: '10.51.10.0/24', Action: 'Deny' }] },
  ],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pp-sg-watch-'));
  writeFileSync(join(dir, 'groups.json'), JSON.stringify(groups, null, 2));
  rig = await startLab(testRoot());
  queue = new MemoryQueue();
  await queue.start();
  actuator = createActuator(
    { root: testRoot(), queue, clock, routerFor: rig.routerFor, env: {}, registry },
    // interval_s 0: the test runs each pass itself.
    { gitops_dir: '', security_groups: { interval_s: 0, files: [{ file: join(dir, 'groups.json'), routers: [NYC] }] } },
  );
  await actuator.start();
});
afterAll(async () => {
  await actuator?.stop();
  await queue?.stop();
  await rig?.stop();
});

const fromFra: Packet = { protocol: 'tcp', source: '10.50.3.4', destination: '10.51.10.20', destinationPort: 8080 };
const verdictAt = (at: number) => forwardVerdict(rig.lab.router(NYC).showConfig([]) as ConfigJson, fromFra, at).action;

async function applyNext(): Promise<{ reason: string }> {
  const made = await actuator.service.checkSecurityGroups();
  expect(made).toHaveLength(1);
  const id = made[0]!.proposal.id;
  await actuator.approve(id, 'api:alice');
  await actuator.service.idle();
  const rec = await actuator.get(id);
  expect(rec?.proposal.status).toBe('confirmed');
  return { reason: rec!.proposal.reason };
}

describe('security groups watch', () => {
  it('proposes the groups, then re-renders their time windows when the zone changes its UTC offset', async () => {
    // Friday 6 March 2026, Los Angeles on PST (UTC−8).
    clock.setNow(Date.UTC(2026, 2, 6, 20));
    const first = await applyNext();
    expect(first.reason).toMatch(/security groups .*groups\.json: \d+ rule\(s\) differ on onprem-nyc$/);
    // Winter: 09:00 Los Angeles is 17:00 UTC.
    expect(verdictAt(Date.UTC(2026, 2, 6, 17, 30))).toBe('accept');
    expect(verdictAt(Date.UTC(2026, 2, 6, 16, 30))).toBe('drop');
    // Nothing differs any more: no proposal.
    expect(await actuator.service.checkSecurityGroups()).toEqual([]);

    // Monday 9 March 2026, the day after the change to PDT (UTC−7): 09:30 Los Angeles is 16:30 UTC, and the
    // winter rules still deny it.
    clock.setNow(Date.UTC(2026, 2, 9, 12));
    const monday0930 = Date.UTC(2026, 2, 9, 16, 30);
    expect(verdictAt(monday0930)).toBe('drop');
    const second = await applyNext();
    expect(second.reason).toMatch(/time windows re-rendered for the UTC offset change of America\/Los_Angeles/);
    expect(verdictAt(monday0930)).toBe('accept');
    // 17:30 Los Angeles (00:30 UTC Tuesday) is outside again; 16:30 Los Angeles (23:30 UTC) inside.
    expect(verdictAt(Date.UTC(2026, 2, 10, 0, 30))).toBe('drop');
    expect(verdictAt(Date.UTC(2026, 2, 9, 23, 30))).toBe('accept');
    expect(await actuator.service.checkSecurityGroups()).toEqual([]);
  }, 60_000);

  it('a rule changed by hand is proposed back; a file that does not parse proposes nothing', async () => {
    rig.lab.router(NYC).applyCommands(["set firewall ipv4 forward filter rule 11000 action 'accept'"]);
    const back = await applyNext();
    expect(back.reason).toMatch(/1 rule\(s\) differ on onprem-nyc/);
    expect(rig.lab.router(NYC).showConfig(['firewall', 'ipv4', 'forward', 'filter', 'rule', '11000'])).toMatchObject({
      action: 'drop',
    });

    writeFileSync(join(dir, 'groups.json'), '{ "SecurityGroups": [ { "Name": "x", "Rules": [] } ] }');
    rig.lab.router(NYC).applyCommands(["set firewall ipv4 forward filter rule 11000 action 'accept'"]);
    expect(await actuator.service.checkSecurityGroups()).toEqual([]);
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_errors_total{error_type="security_groups"}']).toBe(1);
  }, 60_000);
});
