import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../core/clock.ts';
import { loadConfig } from '../core/config/index.ts';
import { LeaderElection, LeadershipLostError } from '../core/leader.ts';
import { MemoryLeases } from '../core/lease.ts';
import { proposalQueueName } from '../core/proposal.ts';
import { MemoryQueue } from '../core/queue/index.ts';
import type { OptimizerData } from '../optimizer/data.ts';
import { createOptimizer } from '../optimizer/index.ts';
import { proposalsFenced, standbyOptimizer } from './optimizer-standby.ts';

const root = loadConfig().root;
const leader = { ttl_ms: 600, renew_ms: 150 };

/** Optimizer data whose every read is counted (a run = a solve attempt) and fails like a store timeout. */
function countedData(count: () => void): OptimizerData {
  const read = async (): Promise<never> => {
    count();
    throw new Error('store timeout');
  };
  return { linkTraffic: read, pairTraffic: read, pathProbes: read, dailyCost: read, currentWeights: read };
}

describe('optimizer active/standby', () => {
  it('only the leader solves; a standby refuses run-now and takes over once the leader stops', async () => {
    const clock = new SimulatedClock();
    const queue = new MemoryQueue();
    await queue.start();
    const store = new MemoryLeases();
    const reads = { a: 0, b: 0 };
    const process = (who: 'a' | 'b') => {
      const leadership = new LeaderElection({ role: 'optimizer', store }, leader);
      const optimizer = standbyOptimizer({
        queue,
        leadership,
        make: (q) =>
          createOptimizer(
            { data: countedData(() => reads[who]++), queue: q, clock, root },
            { interval_s: 60, registry_dir: '', learned: false },
          ),
      });
      return { leadership, optimizer };
    };
    const a = process('a');
    const b = process('b');
    /** Moves the optimizers' clock a run interval at a time until `cond` (bounded). */
    const runUntil = async (cond: () => boolean) => {
      for (let i = 0; i < 100 && !cond(); i++) {
        await clock.advance(60_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(cond()).toBe(true);
    };
    try {
      await a.optimizer.start();
      await b.optimizer.start();
      expect([a.leadership.leading, b.leadership.leading]).toEqual([true, false]);
      await runUntil(() => reads.a >= 2);
      expect(reads.b).toBe(0);
      await expect(b.optimizer.runNow()).rejects.toMatchObject({ code: 'PP_ERR_CONFLICT' });
      // The standby's API still reads (from an optimizer it never started).
      expect(b.optimizer.engine.proposals).toEqual([]);

      await a.optimizer.stop();
      const stoppedAt = reads.a;
      await runUntil(() => b.leadership.leading && reads.b >= 2);
      expect(reads.a).toBe(stoppedAt);
      // The new leader runs on request too (the run fails on the data, not on the leadership).
      await expect(b.optimizer.runNow()).rejects.toThrow('store timeout');
    } finally {
      await a.optimizer.stop();
      await b.optimizer.stop();
      await queue.stop();
    }
  });

  it('a proposal is published only while the process leads; other jobs pass', async () => {
    const queue = new MemoryQueue();
    await queue.start();
    let leading = true;
    const fenced = proposalsFenced(queue, async () => {
      if (!leading) throw new LeadershipLostError('optimizer', 'the store holds a newer epoch', 3);
    });
    try {
      await fenced.add(proposalQueueName, 'proposal', { id: 'p1' }, { jobId: 'p1' });
      leading = false;
      await expect(fenced.add(proposalQueueName, 'proposal', { id: 'p2' }, { jobId: 'p2' })).rejects.toBeInstanceOf(
        LeadershipLostError,
      );
      await fenced.add('pathpilot-optimizer', 'retrain', {}, { jobId: 'r1' });
      expect((await queue.getJob(proposalQueueName, 'p1'))?.id).toBe('p1');
      expect(await queue.getJob(proposalQueueName, 'p2')).toBeUndefined();
      expect((await queue.getJob('pathpilot-optimizer', 'r1'))?.id).toBe('r1');
    } finally {
      await queue.stop();
    }
  });
});
