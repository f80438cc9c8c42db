/**
 * Drift (issue 14 item 4) on the VyOS emulator over real HTTP: an operator edits a subtree a rollout
 * touches while it bakes. Before the next step, and before a restore, the actuator compares the touched
 * subtrees with what it last applied; on a difference it stops without overwriting the edit, marks the
 * proposal `drifted`, and alerts (Slack webhook, `pathpilot_actuator_drift_total`, audit `drifted`).
 * An admin then rolls the change back anyway (the snapshots come back) or keeps the routers as they are.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/clock.ts';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { buildApp } from '../../../core/http/server.ts';
import { createRegistry, metricValues } from '../../../core/metrics.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { actuatorRoutes, createActuator, type Actuator } from '../../../actuator/index.ts';
import { testRoot, startLab, running, weightProposal, SITES, type LabRig, SwitchableGuardData } from './support.ts';

/** A local Slack webhook: every message posted to it. */
async function slackReceiver(): Promise<{ server: Server; url: string; texts: string[] }> {
  const texts: string[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      texts.push(data);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, texts };
}

const tokens = TokenAuthenticator.fromSpec('approver:alice:approver-token-0123456789,admin:root:admin-token-0123456789');
const ADMIN = { authorization: 'Bearer admin-token-0123456789' };

/** Moves every weight of the proposal by `by`, so each test changes every router from where the last left it. */
function shifted(p: ProposalInput, by: number): ProposalInput {
  for (const i of p.intents)
    if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + by;
  return p;
}

describe('drift: a router edited by someone else during a rollout', () => {
  let rig: LabRig;
  let actuator: Actuator;
  let guard: SwitchableGuardData;
  let slack: Awaited<ReturnType<typeof slackReceiver>>;
  let queue: MemoryQueue;
  const registry = createRegistry();
  // Two steps: the edit lands while step 1 bakes, before step 2 (or the restore) would touch the router.
  const root = testRoot({ rollout_steps: [0.5, 1] });

  beforeAll(async () => {
    rig = await startLab(root);
    slack = await slackReceiver();
    guard = new SwitchableGuardData();
    queue = new MemoryQueue();
    await queue.start();
    actuator = createActuator(
      {
        root,
        queue,
        clock: new RealClock(),
        routerFor: rig.routerFor,
        guardData: guard,
        registry,
        env: { PATHPILOT_SLACK_WEBHOOK_URL: `${slack.url}/webhook` },
      },
      { gitops_dir: '', retry: { attempts: 3, base_ms: 10, max_ms: 50 } },
    );
    await actuator.start();
  });
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
    await rig?.stop();
    slack?.server.close();
  });
  afterEach(() => {
    guard.bad = false;
  });

  /**
   * Runs `p` to its end; while its first step bakes, the operator sets NYC's weight on vti1 for
   * 10.10.0.0/16 to `weight` (inside the WAN rule the rollout touches) and `whileBaking` runs.
   * Returns the operator's `set` line and NYC's revision right after the edit.
   */
  async function runWithOperatorEdit(p: ProposalInput, weight: number, whileBaking: () => void = () => {}) {
    const nyc = rig.lab.router('onprem-nyc');
    let edit: { line: string; revision: number } | undefined;
    const onChange = (e: { event: string; proposal_id: string; step?: number }) => {
      if (e.proposal_id !== p.id || e.event !== 'baking' || e.step !== 0 || edit) return;
      const rule = nyc.runningCommands(['load-balancing', 'wan', 'rule']).find((l) => l.includes("'10.10.0.0/16'"));
      const num = /rule (\d+) /.exec(rule ?? '')?.[1];
      expect(num).toBeDefined();
      const line = `set load-balancing wan rule ${num} interface vti1 weight '${weight}'`;
      nyc.applyCommands([line]);
      edit = { line, revision: nyc.revision() };
      whileBaking();
    };
    actuator.events.on('change', onChange);
    try {
      await actuator.submit(p);
      await actuator.approve(p.id, 'api:alice');
      await actuator.service.idle();
    } finally {
      actuator.events.off('change', onChange);
    }
    expect(edit).toBeDefined();
    return edit!;
  }

  it('an edit between step 1 and step 2: drifted, the edit stays, no step 2 anywhere, alerted', async () => {
    const p = weightProposal();
    const edit = await runWithOperatorEdit(p, 11);
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('drifted');
    expect(rec?.error).toMatch(/onprem-nyc \(load-balancing wan rule \d+\)/);
    const nyc = rig.lab.router('onprem-nyc');
    expect(nyc.runningCommands()).toContain(edit.line);
    // Nothing reached NYC after the edit, and step 2 went to no router.
    expect(nyc.revision()).toBe(edit.revision);
    const events = actuator.changes(p.id);
    expect(events.filter((e) => e.event === 'step-applied' && e.step === 1)).toEqual([]);
    expect(events.filter((e) => e.event === 'rolled-back')).toEqual([]);
    const drifted = events.filter((e) => e.event === 'drifted');
    expect(drifted).toHaveLength(1);
    expect(drifted[0]!.router).toBe('onprem-nyc');
    const detail = JSON.parse(drifted[0]!.detail!) as { when: string; paths: string[]; holds: Record<string, unknown> };
    expect(detail.when).toBe('before step 2');
    expect(detail.paths).toEqual([expect.stringMatching(/^load-balancing wan rule \d+$/)]);
    // What the router holds there now: the operator's weight.
    expect(JSON.stringify(detail.holds[detail.paths[0]!])).toContain('"vti1":{"weight":"11"}');
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_drift_total{router="onprem-nyc"}']).toBe(1);
    expect(m['pathpilot_actuator_drift_total{router="aws-use1"}'] ?? 0).toBe(0);
    expect(slack.texts.some((t) => t.includes(p.id) && t.includes('DRIFTED'))).toBe(true);

    // The admin keeps the routers as they are: the proposal closes, nothing is sent to a router.
    const revs = Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]));
    const app = await buildApp({ registry, auth: tokens }, [actuatorRoutes(actuator)]);
    try {
      const denied = await app.inject({
        method: 'POST',
        url: `/api/v1/proposals/${p.id}/accept-drift`,
        headers: { authorization: 'Bearer approver-token-0123456789' },
      });
      expect(denied.statusCode).toBe(403);
      const res = await app.inject({ method: 'POST', url: `/api/v1/proposals/${p.id}/accept-drift`, headers: ADMIN });
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('drift-accepted');
      const again = await app.inject({ method: 'POST', url: `/api/v1/proposals/${p.id}/rollback`, headers: ADMIN });
      expect(again.statusCode).toBe(409);
    } finally {
      await app.close();
    }
    expect(Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]))).toEqual(revs);
    expect(actuator.changes(p.id).at(-1)).toMatchObject({ event: 'drift-accepted', actor: 'api:root' });
  });

  it('an edit before a guard-failure restore: drifted, the edit is not overwritten, the other routers restored', async () => {
    const before = running(rig.lab);
    const p = shifted(weightProposal(), 4);
    const edit = await runWithOperatorEdit(p, 13, () => (guard.bad = true));
    const rec = await actuator.get(p.id);
    expect(rec?.proposal.status).toBe('drifted');
    expect(rec?.error).toMatch(/onprem-nyc \(load-balancing wan rule \d+\)/);
    expect(rec?.error).toMatch(/guard fail at step 1/);
    const nyc = rig.lab.router('onprem-nyc');
    expect(nyc.runningCommands()).toContain(edit.line);
    expect(nyc.revision()).toBe(edit.revision);
    // NYC (1.5) armed commit-confirm for step 1; left running, its revert would undo the edit too.
    expect(nyc.pendingConfirm()).toBeUndefined();
    // The routers nobody else touched went back to their snapshots.
    expect(rig.lab.router('aws-use1').runningCommands()).toEqual(before['aws-use1']);
    expect(rig.lab.router('onprem-fra').runningCommands()).toEqual(before['onprem-fra']);
    const events = actuator.changes(p.id);
    expect(events.filter((e) => e.event === 'rolled-back').map((e) => e.router)).toEqual(['onprem-fra', 'aws-use1']);
    expect(events.find((e) => e.event === 'drifted')?.detail).toContain('before the restore');
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_drift_total{router="onprem-nyc"}']).toBe(2);
  });

  it("an admin's rollback of a drifted proposal restores the snapshots", async () => {
    const before = running(rig.lab);
    const p = shifted(weightProposal(), 8);
    await runWithOperatorEdit(p, 17);
    expect((await actuator.get(p.id))?.proposal.status).toBe('drifted');
    expect(running(rig.lab)).not.toEqual(before);
    const app = await buildApp({ registry, auth: tokens }, [actuatorRoutes(actuator)]);
    try {
      const res = await app.inject({ method: 'POST', url: `/api/v1/proposals/${p.id}/rollback`, headers: ADMIN });
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('rolled-back');
    } finally {
      await app.close();
    }
    // Every touched subtree holds its snapshot again: the operator's edit inside it is gone (the admin chose).
    expect(running(rig.lab)).toEqual(before);
    const rolled = actuator.changes(p.id).filter((e) => e.event === 'rolled-back');
    expect(rolled.map((e) => e.router).sort()).toEqual([...SITES].sort());
    expect(rolled.every((e) => e.actor === 'actuator')).toBe(true);
  });
});
