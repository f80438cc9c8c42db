/**
 * Shared set-up for the actuator's functional tests: the example topology on the VyOS emulator. The
 * fixtures live beside what they exercise (bench/actuator uses them too); this file gathers them.
 */
export { testRoot, weightProposal, SwitchableGuardData } from '../../../actuator/testing.ts';
export { KEY, SITES, startLab, running, type LabRig } from '../../../lab/vyos/testing.ts';

import { createActuator } from '../../../actuator/index.ts';
import { testRoot } from '../../../actuator/testing.ts';
import type { Actuator } from '../../../actuator/types.ts';
import { RealClock } from '../../../core/clock.ts';
import type { ProposalInput } from '../../../core/proposal.ts';
import { MemoryQueue } from '../../../core/queue/index.ts';
import { startLab, type LabRig } from '../../../lab/vyos/testing.ts';
import { RedisStateStore } from '../../../actuator/state.ts';
import { ident, sql } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { requireService } from '../../support/services.ts';

/** The three-router lab and an actuator driving it over HTTP (approval mode, in-process queue); stop() ends both. */
export async function startLabActuator(): Promise<{ rig: LabRig; actuator: Actuator; stop(): Promise<void> }> {
  const rig = await startLab(testRoot());
  const queue = new MemoryQueue();
  await queue.start();
  const actuator = createActuator(
    { root: testRoot(), queue, clock: new RealClock(), routerFor: rig.routerFor, env: {} },
    { gitops_dir: '' },
  );
  await actuator.start();
  return {
    rig,
    actuator,
    async stop() {
      await actuator.stop();
      await queue.stop();
      await rig.stop();
    },
  };
}

let rolled = 0;
/**
 * One approved change through the actuator: the intents as a low-risk proposal of `kind`, submitted,
 * approved by api:alice and rolled out; its status at the end.
 */
export async function rollOut(
  actuator: Actuator,
  kind: ProposalInput['kind'],
  intents: ProposalInput['intents'],
  reason: string,
): Promise<string | undefined> {
  const id = `${kind}-${Date.now()}-${rolled++}`;
  await actuator.submit({
    id,
    created_at: Date.now(),
    kind,
    reason,
    inputs: {},
    intents,
    predicted: { cost_per_day: 0, max_utilization: 0, slo_risk: 0.05 },
    risk: 'low',
  });
  await actuator.approve(id, 'api:alice');
  await actuator.service.idle();
  return (await actuator.get(id))?.proposal.status;
}

/**
 * Ends what a test on the real services started, each part only if it was: the actuator, its queue, the
 * lab, the Redis records under `redisPrefix`, and the test's ClickHouse database.
 */
export async function stopServices(p: {
  actuator?: Actuator | undefined;
  queue?: MemoryQueue | undefined;
  rig?: LabRig | undefined;
  redisPrefix?: string;
  store?: Store | undefined;
}): Promise<void> {
  await p.actuator?.stop();
  await p.queue?.stop();
  await p.rig?.stop();
  if (p.redisPrefix) {
    const s = new RedisStateStore(requireService('redis'), p.redisPrefix);
    await s.start();
    await s.clear();
    await s.stop();
  }
  await p.store?.exec(sql`DROP DATABASE IF EXISTS ${ident(p.store.database)}`).catch(() => undefined);
  await p.store?.stop();
}
