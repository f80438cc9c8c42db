/**
 * An actuator process for the lease, crash and failover tests: Redis state, BullMQ queue, the lab's routers
 * over HTTP, a short rollout lease. Prints every audit event, status change and leadership transition as a
 * JSON line, and a `final` line once every proposal is finished. Env: PP_LEASE (JSON: urls, redisUrl, prefix,
 * queuePrefix, proposal?, guard: 'good'|'bad', bakeS, leaseTtlMs, confirmMinutes). Commands on stdin, one
 * JSON line each: `{"submit": proposal}` submits and approves it here (a standby decides, the leader applies).
 */
import { createInterface } from 'node:readline';
import { RealClock } from '../../../core/clock.ts';
import { Topology } from '../../../core/config/topology.ts';
import { BullmqQueue } from '../../../core/queue/index.ts';
import { createActuator, type GuardData } from '../../../actuator/index.ts';
import { VyosClient } from '../../../actuator/vyos/index.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { KEY, testRoot } from './support.ts';

export interface LeaseChildSpec {
  urls: Record<string, string>;
  redisUrl: string;
  prefix: string;
  queuePrefix: string;
  proposal?: ProposalInput;
  guard: 'good' | 'bad';
  bakeS: number;
  leaseTtlMs: number;
  /** Commit-confirm minutes on the 1.5 routers (the lab's clock decides when they fire); default: the config's. */
  confirmMinutes?: number;
}

export interface LeaseChildCommand {
  submit?: ProposalInput;
}

const spec = JSON.parse(process.env['PP_LEASE'] ?? '{}') as LeaseChildSpec;
const root = testRoot({ bake_time_s: spec.bakeS });
const topology = new Topology(root);
const clients = new Map(
  Object.entries(spec.urls).map(([site, url]) => [
    site,
    new VyosClient({ url, apiKey: KEY, version: topology.site(site).router.vyos_version, timeoutMs: 2000 }),
  ]),
);
const base = { rtt_p50_ms: 10, rtt_p95_ms: 14, loss_ratio: 0, jitter_ms: 1, windows: 6, sent: 600 };
const guardData: GuardData = {
  async compare() {
    const cur = spec.guard === 'bad' ? { ...base, rtt_p95_ms: 900 } : base;
    return { current: cur, baseline: base, change: { rtt_p50: 0, rtt_p95: (cur.rtt_p95_ms - 14) / 14, loss: 0, jitter: 0 } };
  },
};
const queue = new BullmqQueue({
  redisUrl: spec.redisUrl,
  prefix: spec.queuePrefix,
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
});
await queue.start();
const actuator = createActuator(
  { root, queue, clock: new RealClock(), routerFor: (s) => clients.get(s)!, guardData, env: {} },
  {
    state: { kind: 'redis', redis_url: spec.redisUrl, prefix: spec.prefix },
    gitops_dir: '',
    retry: { attempts: 4, base_ms: 20, max_ms: 200 },
    self_heal_interval_s: 0,
    lease_ttl_ms: spec.leaseTtlMs,
    commit_confirm_minutes: spec.confirmMinutes,
  },
);
actuator.events.on('change', (e: unknown) => console.log(JSON.stringify(e)));
actuator.events.on('status', (e: { id: string; status: string }) => console.log(JSON.stringify({ status: e.status, id: e.id })));
actuator.leadership.onTransition((t) =>
  console.log(JSON.stringify({ leader: t.leading, epoch: t.epoch, at: Date.now(), ...(t.reason ? { detail: t.reason } : {}) })),
);
const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const p = (JSON.parse(line) as LeaseChildCommand).submit;
  if (!p) return;
  (async () => {
    await actuator.submit(p);
    await actuator.approve(p.id, 'api:alice');
    console.log(JSON.stringify({ submitted: p.id }));
  })().catch((err: unknown) => console.log(JSON.stringify({ event: 'command-failed', detail: String(err) })));
});
await actuator.start();
if (spec.proposal) {
  await actuator.submit(spec.proposal);
  await actuator.approve(spec.proposal.id, 'api:alice');
}
console.log(JSON.stringify({ ready: true }));
// Runs until every proposal reached a final status (the test may kill it earlier), at most 120 s.
// `drifted` is final for the pipeline too: it waits for an admin.
const terminal = new Set(['confirmed', 'rolled-back', 'failed', 'drifted', 'drift-accepted', 'rejected', 'expired']);
for (let i = 0; i < 1200; i++) {
  const all = await actuator.list();
  if (all.length > 0 && all.every((r) => terminal.has(r.proposal.status))) break;
  await new Promise((r) => setTimeout(r, 100));
}
await actuator.service.idle();
const recs = await actuator.list();
console.log(JSON.stringify({ final: recs.map((r) => ({ id: r.proposal.id, status: r.proposal.status, error: r.error })) }));
await actuator.stop();
await queue.stop();
for (const c of clients.values()) await c.close();
// The command pipe would keep the process alive.
commands.close();
process.stdin.destroy();
