/**
 * GitOps mode (issue 19 item 5): a bare repository made here holds `routers/onprem-nyc.conf`, the emulated
 * router's config as `show configuration commands` prints it (API key redacted). A commit adding a static
 * route and a firewall rule becomes one proposal; once approved and confirmed the router has them and the
 * branch's head is pathpilot's commit of `applied/onprem-nyc.conf` (with the route, the key still redacted)
 * and a `drift.md` where nothing drifts; checking again proposes nothing. A commit superseded before a
 * decision is rejected by the watch, a rejected one shows in drift.md, and a file that does not parse
 * proposes nothing and is counted.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActuator } from '../../../actuator/index.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { redactCommandLine } from '../../../core/redact.ts';
import { startLab, testRoot, type LabRig } from './support.ts';

const NYC = 'onprem-nyc';
const ROUTE = "set protocols static route 192.0.2.0/24 next-hop 172.16.3.2 distance '50'";
const RULE = [
  "set firewall ipv4 forward filter rule 9000 action 'drop'",
  "set firewall ipv4 forward filter rule 9000 destination address '192.0.2.0/24'",
];

let rig: LabRig;
let actuator: Actuator;
let queue: MemoryQueue;
let dir: string;
let remote: string;
let work: string;
const registry = createRegistry();

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=alice', '-c', 'user.email=alice@example.net', ...args], { cwd, encoding: 'utf8' }).trim();
const desiredFile = () => join(work, 'routers', `${NYC}.conf`);
/** A person's commit of the desired file, pushed (after taking what pathpilot pushed meanwhile). */
function commitDesired(text: string, subject: string): string {
  git(work, 'pull', '--quiet', '--rebase', 'origin', 'main');
  writeFileSync(desiredFile(), text);
  git(work, 'add', 'routers');
  git(work, 'commit', '--quiet', '-m', subject);
  git(work, 'push', '--quiet', 'origin', 'main');
  return git(work, 'rev-parse', 'HEAD');
}
const show = (rev: string) => git(remote, 'show', rev);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pp-gitops-'));
  remote = join(dir, 'remote.git');
  work = join(dir, 'work');
  git(dir, 'init', '--quiet', '--bare', '-b', 'main', remote);
  mkdirSync(join(work, 'routers'), { recursive: true });
  git(work, 'init', '--quiet', '-b', 'main');
  git(work, 'remote', 'add', 'origin', remote);
  rig = await startLab(testRoot());
  // The router as it runs, as the GitOps export writes it: the starting point of the desired file.
  const running = (await rig.routerFor(NYC).show(['configuration', 'commands'])).split('\n').map(redactCommandLine).join('\n');
  writeFileSync(desiredFile(), running);
  git(work, 'add', 'routers');
  git(work, 'commit', '--quiet', '-m', 'onprem-nyc as it runs');
  git(work, 'push', '--quiet', '-u', 'origin', 'main');
  queue = new MemoryQueue();
  await queue.start();
  actuator = createActuator(
    { root: testRoot(), queue, clock: new RealClock(), routerFor: rig.routerFor, env: {}, registry },
    // interval_s 0: the test runs each pass itself.
    {
      gitops_dir: '',
      gitops_repo: {
        url: remote,
        interval_s: 0,
        workdir: join(dir, 'pathpilot-clone'),
        author: 'pathpilot <pathpilot@example.net>',
      },
    },
  );
  await actuator.start();
});
afterAll(async () => {
  await actuator?.stop();
  await queue?.stop();
  await rig?.stop();
});

describe('GitOps watch', () => {
  it('turns a commit into a proposal and, once applied, commits the applied state back', async () => {
    // The repository describes the router as it runs: nothing to propose, nothing to report.
    expect(await actuator.service.checkGitops()).toMatchObject({ desired: { subject: 'onprem-nyc as it runs' } });
    expect(await actuator.list()).toEqual([]);

    const hash = commitDesired(
      [readFileSync(desiredFile(), 'utf8').trimEnd(), ROUTE, ...RULE, ''].join('\n'),
      'block TEST-NET-1',
    );
    const pass = await actuator.service.checkGitops();
    const id = `gitops-${hash.slice(0, 12)}`;
    expect(pass.proposed?.proposal).toMatchObject({ id, kind: 'config', status: 'awaiting-approval' });
    expect(pass.proposed!.proposal.reason).toBe(`gitops ${hash.slice(0, 12)} "block TEST-NET-1": 2 subtree(s) differ on ${NYC}`);
    expect(pass.proposed!.proposal.intents).toEqual([
      expect.objectContaining({
        kind: 'config-subtrees',
        router: NYC,
        subtrees: [
          {
            path: ['firewall', 'ipv4', 'forward', 'filter', 'rule', '9000'],
            desired: { action: 'drop', destination: { address: '192.0.2.0/24' } },
          },
          {
            path: ['protocols', 'static', 'route', '192.0.2.0/24'],
            desired: { 'next-hop': { '172.16.3.2': { distance: '50' } } },
          },
        ],
      }),
    ]);

    await actuator.approve(id, 'api:alice');
    await actuator.service.idle();
    expect((await actuator.get(id))?.proposal.status).toBe('confirmed');
    expect(rig.lab.router(NYC).showConfig(['protocols', 'static', 'route', '192.0.2.0/24'])).toEqual({
      'next-hop': { '172.16.3.2': { distance: '50' } },
    });

    expect(await actuator.service.checkGitops()).toMatchObject({ reported: id });
    expect(git(remote, 'log', '-1', '--format=%an <%ae>|%s', 'main')).toBe(
      `pathpilot <pathpilot@example.net>|pathpilot: applied state after ${id} (confirmed)`,
    );
    const applied = show(`main:applied/${NYC}.conf`);
    expect(applied).toContain(ROUTE);
    expect(applied).toContain("set service https api keys id pathpilot key '[redacted]'");
    expect(show('main:drift.md')).toContain(`## ${NYC}\n\nNothing drifts.`);
    expect(show('main:drift.md')).toContain(`Last change: ${id} confirmed, decided by api:alice`);

    // Nothing new: no proposal, no commit.
    const head = git(remote, 'rev-parse', 'main');
    expect(await actuator.service.checkGitops()).toEqual({ desired: { hash, subject: 'block TEST-NET-1' } });
    expect(git(remote, 'rev-parse', 'main')).toBe(head);
    expect(await actuator.list()).toHaveLength(1);
  }, 90_000);

  it('supersedes an undecided commit; a rejected one shows in drift.md', async () => {
    const base = readFileSync(desiredFile(), 'utf8').trimEnd();
    const first = commitDesired(
      `${base}\nset protocols static route 198.51.100.0/24 next-hop 172.16.3.2\n`,
      'route 198.51.100.0/24',
    );
    const p1 = (await actuator.service.checkGitops()).proposed!.proposal.id;
    expect(p1).toBe(`gitops-${first.slice(0, 12)}`);
    const second = commitDesired(
      `${base}\nset protocols static route 198.51.100.0/24 next-hop 172.16.3.2\nset protocols static route 203.0.113.0/24 next-hop 172.16.3.2\n`,
      'two more routes',
    );
    const p2 = (await actuator.service.checkGitops()).proposed!.proposal.id;
    expect(p2).toBe(`gitops-${second.slice(0, 12)}`);
    expect((await actuator.get(p1))?.proposal).toMatchObject({ status: 'rejected' });
    expect((await actuator.get(p1))?.proposal.history.at(-1)?.note).toMatch(/superseded by commit/);

    await actuator.reject(p2, 'api:bob', 'not this week');
    expect(await actuator.service.checkGitops()).toMatchObject({ reported: p2 });
    const drift = show('main:drift.md');
    expect(drift).toContain(`Last change: ${p2} rejected, decided by api:bob (not this week)`);
    expect(drift).toContain('2 subtree(s) differ');
    expect(drift).toContain('    set protocols static route 198.51.100.0/24 next-hop 172.16.3.2\n');
    expect(drift).toContain('    set protocols static route 203.0.113.0/24 next-hop 172.16.3.2\n');
    expect(rig.lab.router(NYC).showConfig(['protocols', 'static', 'route'])).not.toHaveProperty('203.0.113.0/24');
  }, 90_000);

  it('a desired file that does not parse proposes nothing and is counted', async () => {
    const base = readFileSync(desiredFile(), 'utf8').trimEnd();
    commitDesired(`${base}\nset interfaces ethernet eth0 address 'not-an-address'\n`, 'a typo');
    const before = (await actuator.list()).length;
    expect(await actuator.service.checkGitops()).toMatchObject({ desired: { subject: 'a typo' } });
    expect(await actuator.list()).toHaveLength(before);
    // The same commit again is not read again: counted once.
    await actuator.service.checkGitops();
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_errors_total{error_type="gitops_desired"}']).toBe(1);
  }, 60_000);
});
