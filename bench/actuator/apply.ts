/**
 * bench:actuator — on the VyOS emulator over loopback HTTP (three routers, 1.4 and 1.5):
 * - approval → first router committed (target ≤ 1 s, bake time excluded);
 * - failing guard verdict → rollback complete on every router (target ≤ 2 s).
 * 15 proposals each; prints p50, p95 and max with the ratio of the worst to the target.
 */
import { RealClock } from '../../core/clock.ts';
import { MemoryQueue } from '../../core/queue/index.ts';
import { createActuator } from '../../actuator/index.ts';
import type { GuardData } from '../../actuator/guard/index.ts';
import { testRoot, weightProposal } from '../../actuator/testing.ts';
import { startLab } from '../../lab/vyos/testing.ts';

const rounds = 15;
const root = testRoot({ rollout_steps: [0.5, 1], bake_time_s: 1 });
const rig = await startLab(root);
let failGuard = false;
const base = { rtt_p50_ms: 10, rtt_p95_ms: 14, loss_ratio: 0, jitter_ms: 1, windows: 6, sent: 600 };
const guardData: GuardData = {
  async compare() {
    const cur = failGuard ? { ...base, rtt_p95_ms: 999 } : base;
    return { current: cur, baseline: base, change: { rtt_p50: 0, rtt_p95: (cur.rtt_p95_ms - 14) / 14, loss: 0, jitter: 0 } };
  },
};
const queue = new MemoryQueue();
await queue.start();
const actuator = createActuator(
  { root, queue, clock: new RealClock(), routerFor: rig.routerFor, guardData, env: {} },
  { gitops_dir: '' },
);
await actuator.start();

const applyMs: number[] = [];
const rollbackMs: number[] = [];
const deadline = Date.now() + 120_000;
for (let i = 0; i < rounds && Date.now() < deadline; i++) {
  const p = weightProposal(`bench-${i}`);
  for (const intent of p.intents)
    if (intent.kind === 'path-weights')
      for (const k of Object.keys(intent.weights)) intent.weights[k] = 10 + ((i * 7 + k.length) % 90);
  await actuator.submit(p);
  failGuard = true;
  let approvedAt = 0;
  let firstCommit = 0;
  let verdictAt = 0;
  let rolledBack = 0;
  const onChange = (e: { proposal_id: string; event: string }) => {
    if (e.proposal_id !== p.id) return;
    if (e.event === 'step-applied' && firstCommit === 0) firstCommit = performance.now();
    if (e.event === 'guard-fail' && verdictAt === 0) verdictAt = performance.now();
  };
  const onStatus = (e: { id: string; status: string }) => {
    if (e.id === p.id && e.status === 'rolled-back') rolledBack = performance.now();
  };
  actuator.events.on('change', onChange);
  actuator.events.on('status', onStatus);
  approvedAt = performance.now();
  await actuator.approve(p.id, 'bench');
  await actuator.service.idle();
  actuator.events.off('change', onChange);
  actuator.events.off('status', onStatus);
  if (!firstCommit || !verdictAt || !rolledBack)
    throw new Error(`round ${i}: rollout did not go as expected (${(await actuator.get(p.id))?.proposal.status})`);
  applyMs.push(firstCommit - approvedAt);
  rollbackMs.push(rolledBack - verdictAt);
}
await actuator.stop();
await queue.stop();
await rig.stop();

const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
const report = (name: string, xs: number[], targetMs: number) => {
  const max = Math.max(...xs);
  console.log(
    `${name}: p50 ${q(xs, 0.5).toFixed(1)} ms, p95 ${q(xs, 0.95).toFixed(1)} ms, max ${max.toFixed(1)} ms over ${xs.length} runs ` +
      `(target ≤ ${targetMs} ms, ratio ${(targetMs / max).toFixed(2)})`,
  );
};
report('approval → first router committed', applyMs, 1000);
report('failing verdict → rollback complete (3 routers)', rollbackMs, 2000);
