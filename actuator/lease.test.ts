import { describe, expect, it } from 'vitest';
import { RouterStepError } from './engine.ts';
import { LeaseLostError, RolloutLease, fenceRouter, isLeaseLost, type LeaseStore } from './lease.ts';
import { MemoryStateStore, type ProposalRecord } from './state.ts';
import type { ConfigOp, RouterApi } from './vyos/types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function record(id: string, note: string): ProposalRecord {
  return { proposal: { id, reason: note } as unknown as ProposalRecord['proposal'], updatedAt: 0 };
}

/** A router that only counts writes (reads are not fenced and not used here). */
function countingRouter(): { api: RouterApi; writes: string[] } {
  const writes: string[] = [];
  const api = {
    url: 'http://router.test',
    version: '1.5',
    showConfig: async () => null,
    configure: async (ops: ConfigOp[]) => {
      writes.push(`configure ${ops.length}`);
      return null;
    },
    confirm: async () => {
      writes.push('confirm');
      return { confirmed: true, message: 'Reload timer stopped' };
    },
  } as unknown as RouterApi;
  return { api, writes };
}

describe('lease store (memory)', () => {
  it('one holder at a time; tokens only grow; an expired lease is taken with a higher token', async () => {
    const store = new MemoryStateStore();
    const t1 = await store.acquireLease('p1', 60);
    expect(t1).toBeTypeOf('number');
    expect(await store.acquireLease('p1', 60)).toBeUndefined();
    expect(await store.renewLease('p1', t1!, 60)).toBe(true);
    await sleep(90);
    const t2 = await store.acquireLease('p1', 1000);
    expect(t2).toBeGreaterThan(t1!);
    expect(await store.renewLease('p1', t1!, 1000)).toBe(false);
    await store.releaseLease('p1', t1!); // not the holder: no effect
    expect(await store.acquireLease('p1', 1000)).toBeUndefined();
    await store.releaseLease('p1', t2!);
    expect(await store.acquireLease('p1', 1000)).toBeGreaterThan(t2!);
  });

  it('a fenced write with a stale token writes nothing', async () => {
    const store = new MemoryStateStore();
    const old = (await store.acquireLease('p2', 30))!;
    expect(await store.putFenced(record('p2', 'first holder'), old)).toBe(true);
    await sleep(50);
    const fresh = (await store.acquireLease('p2', 1000))!;
    expect(await store.putFenced(record('p2', 'stale holder'), old)).toBe(false);
    expect((await store.get('p2'))?.proposal.reason).toBe('first holder');
    expect(await store.putFenced(record('p2', 'new holder'), fresh)).toBe(true);
    expect((await store.get('p2'))?.proposal.reason).toBe('new holder');
  });
});

describe('RolloutLease and the fenced router', () => {
  it('router writes pass while the lease is held and stop once another holder has it', async () => {
    const store = new MemoryStateStore();
    const lease = (await RolloutLease.acquire(store, 'p3', { ttlMs: 5000 }))!;
    const { api, writes } = countingRouter();
    const fenced = fenceRouter(api, () => lease.check());
    await fenced.configure([{ op: 'set', path: ['a'] }]);
    expect(writes).toEqual(['configure 1']);
    // Taken over (as after an expiry): the old holder's token no longer matches.
    await store.releaseLease('p3', lease.token);
    const other = await store.acquireLease('p3', 5000);
    expect(other).toBeGreaterThan(lease.token);
    await expect(fenced.configure([{ op: 'set', path: ['b'] }])).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fenced.confirm()).rejects.toBeInstanceOf(LeaseLostError);
    expect(writes).toEqual(['configure 1']);
    expect(lease.lost).toBe(true);
    expect(lease.signal.aborted).toBe(true);
    await lease.release(); // lost: must not free the new holder's lease
    expect(await store.renewLease('p3', other!, 5000)).toBe(true);
  });

  it('an unreachable store pauses the check and loses the lease at its deadline, even when calls hang', async () => {
    let mode: 'ok' | 'down' | 'hang' = 'ok';
    const store: LeaseStore = {
      acquireLease: async () => 7,
      renewLease: (): Promise<boolean> =>
        mode === 'ok'
          ? Promise.resolve(true)
          : mode === 'down'
            ? Promise.reject(new Error('ECONNREFUSED'))
            : new Promise(() => {}),
      releaseLease: async () => {},
    };
    for (const m of ['down', 'hang'] as const) {
      mode = 'ok';
      const lease = (await RolloutLease.acquire(store, 'p4', { ttlMs: 300, renewMs: 100 }))!;
      await lease.check();
      mode = m;
      const t0 = Date.now();
      const err = await lease.check().then(
        () => undefined,
        (e: unknown) => e,
      );
      const waited = Date.now() - t0;
      expect(err, m).toBeInstanceOf(LeaseLostError);
      expect(waited, m).toBeLessThan(1500);
      expect(lease.signal.aborted, m).toBe(true);
    }
  });

  it('a store blip shorter than the TTL only pauses the check', async () => {
    let down = false;
    const store: LeaseStore = {
      acquireLease: async () => 9,
      renewLease: async () => {
        if (down) throw new Error('ECONNREFUSED');
        return true;
      },
      releaseLease: async () => {},
    };
    const lease = (await RolloutLease.acquire(store, 'p5', { ttlMs: 2000, renewMs: 5000 }))!;
    down = true;
    setTimeout(() => (down = false), 200);
    await lease.check();
    expect(lease.lost).toBe(false);
    await lease.release();
  });

  it('isLeaseLost sees a lost lease through the router error that wraps it', () => {
    const wrapped = new RouterStepError('aws-use1', 'step 1 failed', { cause: new LeaseLostError('p6', 'taken over') });
    expect(isLeaseLost(wrapped)).toBe(true);
    expect(isLeaseLost(new RouterStepError('aws-use1', 'rejected'))).toBe(false);
  });
});
