/**
 * Redis lost and back mid-rollout. The actuator keeps its state and rollout lease in a Redis of its
 * own (a redis-server this test starts on a free loopback port, with an append-only file so the data
 * outlives the process like a production Redis's) — the shared Redis is never stopped.
 *
 * What must happen (docs/notes/actuator.md): while Redis is down the rollout sends nothing to any
 * router; once its lease deadline passes it stops; when Redis is back the resume sweep takes the
 * lease again, compares the routers with the record and resumes — or rolls back — exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/clock.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { createActuator, type AuditEvent } from '../../../actuator/index.ts';
import { testRoot, startLab, weightProposal, running, SITES, type LabRig, SwitchableGuardData } from './support.ts';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A redis-server of this test's own: killed with SIGKILL and started again on the same port and data. */
class OwnRedis {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', ''].concat([
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--protected-mode',
      'yes',
    ]);
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`redis-server on port ${this.port} did not answer within 5 s`);
    } finally {
      probe.disconnect();
    }
  }
  async kill9(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

const commits = (rig: LabRig) => Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).revision()]));
const configureCalls = (rig: LabRig) =>
  Object.fromEntries(SITES.map((s) => [s, rig.lab.router(s).requestCounts()['/configure'] ?? 0]));

describe('rollout lease: Redis lost and back mid-rollout', () => {
  let rig: LabRig;
  let dir: string;

  beforeAll(async () => {
    rig = await startLab(testRoot());
    dir = await mkdtemp(join(tmpdir(), 'pp-lease-redis-'));
  });
  afterAll(async () => {
    await rig?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    { outcome: 'confirmed', guardAfter: 'good', perRouter: 3 },
    { outcome: 'rolled-back', guardAfter: 'bad', perRouter: 2 },
  ] as const)(
    'Redis killed during a bake, back after the lease expired: nothing sent meanwhile, then $outcome exactly once',
    async ({ outcome, guardAfter, perRouter }) => {
      const redis = new OwnRedis(await freePort(), await mkdtemp(join(dir, 'r-')));
      await redis.start();
      const guard = new SwitchableGuardData();
      const queue = new MemoryQueue();
      await queue.start();
      const actuator = createActuator(
        {
          root: testRoot({ bake_time_s: 3 }),
          queue,
          clock: new RealClock(),
          routerFor: rig.routerFor,
          guardData: guard,
          env: {},
        },
        {
          state: { kind: 'redis', redis_url: redis.url, prefix: 'pplease' },
          gitops_dir: '',
          retry: { attempts: 4, base_ms: 10, max_ms: 100 },
          self_heal_interval_s: 0,
          lease_ttl_ms: 1500,
        },
      );
      const events: AuditEvent[] = [];
      actuator.events.on('change', (e: AuditEvent) => events.push(e));
      try {
        await actuator.start();
        const before = running(rig.lab);
        const startCommits = commits(rig);
        const p = weightProposal(undefined, {});
        for (const i of p.intents)
          if (i.kind === 'path-weights') for (const k of Object.keys(i.weights)) i.weights[k] = i.weights[k]! + 55;
        await actuator.submit(p);
        await actuator.approve(p.id, 'api:alice');
        for (let i = 0; i < 200 && !events.some((e) => e.event === 'baking'); i++) await new Promise((r) => setTimeout(r, 50));
        expect(events.some((e) => e.event === 'baking')).toBe(true);

        await redis.kill9();
        const atOutage = { commits: commits(rig), calls: configureCalls(rig) };
        // The bake (3 s) ends and the lease (1.5 s) runs out while Redis is down.
        await new Promise((r) => setTimeout(r, 5000));
        expect({ commits: commits(rig), calls: configureCalls(rig) }).toEqual(atOutage);
        expect(events.filter((e) => e.event === 'guard-pass' || e.event === 'rolled-back')).toEqual([]);

        guard.bad = guardAfter === 'bad';
        await redis.start();
        let status = '';
        for (let i = 0; i < 600 && status !== outcome; i++) {
          await new Promise((r) => setTimeout(r, 100));
          status = (await actuator.get(p.id).catch(() => undefined))?.proposal.status ?? '';
        }
        expect(status).toBe(outcome);
        await actuator.service.idle();
        // Each step committed once per router (good: 3 steps; bad: step 1 then its restore).
        const after = commits(rig);
        for (const s of SITES) expect(after[s]! - startCommits[s]!, s).toBe(perRouter);
        const sent = events.filter((e) => e.event === 'step-applied' && !JSON.parse(e.detail ?? '{}').already_applied);
        expect(sent.map((e) => `${e.router}@${e.step}`).sort()).toEqual(
          [...new Set(sent.map((e) => `${e.router}@${e.step}`))].sort(),
        );
        expect(events.filter((e) => e.event === 'rolled-back')).toHaveLength(outcome === 'rolled-back' ? SITES.length : 0);
        if (outcome === 'rolled-back') expect(running(rig.lab)).toEqual(before);
        for (const s of SITES) expect(rig.lab.router(s).pendingConfirm()).toBeUndefined();
      } finally {
        await actuator.stop();
        await queue.stop();
        await redis.kill9();
      }
    },
    90_000,
  );
});
