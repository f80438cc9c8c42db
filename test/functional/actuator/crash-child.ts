/**
 * The actuator as a separate process for the crash test: Redis state, BullMQ queue, the lab's routers
 * over HTTP. Prints every audit event as a JSON line. Env: PP_CRASH (JSON: urls, redisUrl, prefix,
 * queuePrefix, proposal?, guard: 'good'|'bad', bakeS).
 */
import { RealClock } from '../../../core/clock.ts';
import { Topology } from '../../../core/config/topology.ts';
import { BullmqQueue } from '../../../core/queue/index.ts';
import { createActuator, type GuardData } from '../../../actuator/index.ts';
import { VyosClient } from '../../../actuator/vyos/index.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { KEY, testRoot } from './support.ts';

interface Spec {
  urls: Record<string, string>;
  redisUrl: string;
  prefix: string;
  queuePrefix: string;
  proposal?: ProposalInput;
  guard: 'good' | 'bad';
  bakeS: number;
}

const spec = JSON.parse(process.env['PP_CRASH'] ?? '{}') as Spec;
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
  {
    root,
    queue,
    clock: new RealClock(),
    routerFor: (s) => clients.get(s)!,
    guardData,
    env: {},
  },
  {
    state: { kind: 'redis', redis_url: spec.redisUrl, prefix: spec.prefix },
    gitops_dir: '',
    retry: { attempts: 4, base_ms: 20, max_ms: 200 },
    // The killed process's rollout lease frees up this soon for the restarted one.
    lease_ttl_ms: 2000,
  },
);
actuator.events.on('change', (e: unknown) => console.log(JSON.stringify(e)));
actuator.events.on('status', (e: { id: string; status: string }) => console.log(JSON.stringify({ status: e.status, id: e.id })));
await actuator.start();
if (spec.proposal) {
  await actuator.submit(spec.proposal);
  await actuator.approve(spec.proposal.id, 'api:alice');
}
console.log(JSON.stringify({ ready: true }));
// Runs until every proposal reached a final status (the test kills it earlier), at most 120 s.
const terminal = new Set(['confirmed', 'rolled-back', 'failed', 'rejected', 'expired']);
for (let i = 0; i < 1200; i++) {
  const all = await actuator.list();
  if (all.length > 0 && all.every((r) => terminal.has(r.proposal.status))) break;
  await new Promise((r) => setTimeout(r, 100));
}
await actuator.service.idle();
const recs = await actuator.list();
console.log(JSON.stringify({ final: recs.map((r) => ({ id: r.proposal.id, status: r.proposal.status })) }));
await actuator.stop();
await queue.stop();
for (const c of clients.values()) await c.close();
