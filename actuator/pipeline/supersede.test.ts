/**
 * Proposal lifecycle: the optimizer re-plans every run, so an identical plan is not queued twice, and a
 * newer plan supersedes the undecided proposals it overlaps (expired, audited with the newer id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterlessActuator, weightProposal } from '../testing.ts';
import type { Actuator } from '../types.ts';
import type { MemoryQueue } from '../../core/queue/index.ts';

describe('pending proposals', () => {
  let actuator: Actuator;
  let queue: MemoryQueue;
  beforeAll(async () => ({ actuator, queue } = await startRouterlessActuator()));
  afterAll(async () => {
    await actuator?.stop();
    await queue?.stop();
  });

  it('an identical plan is the pending one; a different plan for the same rules supersedes it', async () => {
    const first = await actuator.submit(weightProposal('plan-1'), 'optimizer');
    expect(first.proposal.status).toBe('awaiting-approval');
    // Same intents, new id: nothing new is queued.
    const again = await actuator.submit(weightProposal('plan-2'), 'optimizer');
    expect(again.proposal.id).toBe('plan-1');
    expect(await actuator.get('plan-2')).toBeUndefined();

    const changed = weightProposal('plan-3');
    const nyc = changed.intents[0]!;
    if (nyc.kind === 'path-weights') nyc.weights = { 'nyc-use1-dx': 10, 'nyc-use1-vpn': 90 };
    const third = await actuator.submit(changed, 'optimizer');
    expect(third.proposal.status).toBe('awaiting-approval');
    const superseded = (await actuator.get('plan-1'))!;
    expect(superseded.proposal.status).toBe('expired');
    expect(superseded.proposal.history.at(-1)?.note).toBe('superseded by plan-3');
    expect(actuator.changes('plan-1').at(-1)).toMatchObject({
      event: 'expired',
      detail: JSON.stringify({ superseded_by: 'plan-3' }),
    });
    await expect(actuator.approve('plan-1', 'api:alice')).rejects.toThrow(/expired/);

    // A plan for other rules leaves it alone.
    const elsewhere = weightProposal('plan-4', {
      intents: [
        {
          kind: 'bandwidth',
          router: 'onprem-fra',
          link: 'fra-euc1-dx',
          rate_mbps: 1000,
        },
      ],
    });
    await actuator.submit(elsewhere, 'optimizer');
    // People's proposals are theirs: an identical one from the REST API is recorded, and supersedes nothing.
    const byHand = await actuator.submit(weightProposal('by-hand', { intents: changed.intents }), 'api:root');
    expect(byHand.proposal.id).toBe('by-hand');
    expect((await actuator.get('plan-3'))?.proposal.status).toBe('awaiting-approval');
  });
});
