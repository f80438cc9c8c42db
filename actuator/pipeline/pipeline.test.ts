/**
 * The pipeline's stages in process, on a memory queue and state store and no routers (nothing is
 * applied; rollouts have their functional suites): intake is the one consumer of the proposal queue,
 * every status transition reaches the recorder, a failing recorder never fails a decision, and the
 * component contract (its section parsed once, only ConfigError).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../core/clock.ts';
import { ConfigError } from '../../core/errors.ts';
import { createRegistry, metricValues, type Registry } from '../../core/metrics.ts';
import { proposalQueueName } from '../../core/proposal.ts';
import { MemoryQueue } from '../../core/queue/index.ts';
import { createActuator, memoryProposalRecorder, type ProposalRecorder } from '../index.ts';
import { testRoot, weightProposal } from '../testing.ts';
import type { Actuator } from '../types.ts';

const noRouters = () => {
  throw new Error('no routers in the pipeline tests');
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 500 && Date.now() < deadline; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('actuator pipeline', () => {
  let queue: MemoryQueue;
  let registry: Registry;
  let actuator: Actuator | undefined;

  const build = (recorder?: ProposalRecorder): Actuator =>
    (actuator = createActuator(
      {
        root: testRoot(),
        queue,
        clock: new RealClock(),
        routerFor: noRouters,
        env: {},
        registry,
        ...(recorder ? { recorder } : {}),
      },
      { gitops_dir: '', self_heal_interval_s: 0 },
    ));

  beforeEach(async () => {
    queue = new MemoryQueue();
    await queue.start();
    registry = createRegistry();
  });
  afterEach(async () => {
    await actuator?.stop();
    await queue.stop();
  });

  it('takes proposals off the optimizer queue (the one consumer); a malformed one is counted and skipped', async () => {
    const a = build();
    await a.start();
    await queue.add(proposalQueueName, 'proposal', { id: 'broken', intents: [] }, { jobId: 'broken' });
    const good = weightProposal('from-queue');
    await queue.add(proposalQueueName, 'proposal', good, { jobId: good.id });
    const rec = await until('the queued proposal', async () => a.get('from-queue'));
    // Unknown current weights (no routers) make the policy leave it to a human.
    expect(rec.proposal.status).toBe('awaiting-approval');
    expect(rec.proposal.history[0]).toMatchObject({ status: 'proposed', actor: 'optimizer' });
    expect(await a.get('broken')).toBeUndefined();
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_errors_total{error_type="bad_proposal"}']).toBe(1);
  });

  it('records every status transition, in order, with the proposal as it then was', async () => {
    const recorder = memoryProposalRecorder();
    const a = build(recorder);
    await a.start();
    await a.submit(weightProposal('recorded'), 'api:test');
    await a.reject('recorded', 'alice', 'not now');
    expect(recorder.recorded.map((r) => r.status)).toEqual(['proposed', 'awaiting-approval', 'rejected']);
    expect(recorder.recorded.every((r) => r.id === 'recorded')).toBe(true);
  });

  it('a recorder that fails is logged and counted; the decision still stands', async () => {
    const a = build({
      proposal: async () => {
        throw new Error('ClickHouse is down');
      },
    });
    await a.start();
    await a.submit(weightProposal('unrecorded'), 'api:test');
    const rec = await a.reject('unrecorded', 'alice');
    expect(rec.proposal.status).toBe('rejected');
    expect((await a.get('unrecorded'))!.proposal.status).toBe('rejected');
    const m = await metricValues(registry);
    expect(m['pathpilot_actuator_errors_total{error_type="proposal_record"}']).toBe(3);
  });

  it('parses its section once at create: only ConfigError, naming the key; nothing is opened', () => {
    const deps = { root: testRoot(), queue, clock: new RealClock(), routerFor: noRouters, env: {} };
    expect(() => createActuator(deps, { bake_time: 5 })).toThrow(ConfigError);
    expect(() => createActuator(deps, { retry: { attempts: 0 } })).toThrow(/retry\.attempts/);
    expect(() => createActuator(deps, { state: { kind: 'redis' } })).toThrow(/state\.redis_url/);
    // A Redis store on a closed port: create opens nothing, so it does not fail.
    const inert = createActuator(deps, { state: { kind: 'redis', redis_url: 'redis://127.0.0.1:1' } });
    expect(inert.name).toBe('actuator');
    expect(inert.health?.()).toEqual({ ok: true });
  });
});
