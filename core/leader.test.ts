import { describe, expect, it } from 'vitest';
import {
  createLeadership,
  epochFence,
  LeaderElection,
  leaderLeaseId,
  LeadershipLostError,
  SoloLeadership,
  type LeaderHooks,
  type LeaderTransition,
} from './leader.ts';
import { isLeaseLost, MemoryLeases, type LeaseStore } from './lease.ts';
import { createRegistry, metricValues } from './metrics.ts';

const config = { ttl_ms: 600, renew_ms: 150 };

async function until(cond: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

/** Hooks that record the terms a process led. */
function recorder(): LeaderHooks & { terms: { epoch: number; deposed?: string }[]; acting: boolean } {
  const r = {
    terms: [] as { epoch: number; deposed?: string }[],
    acting: false,
    async elected(t: { epoch: number }) {
      r.terms.push({ epoch: t.epoch });
      r.acting = true;
    },
    async deposed(_t: { epoch: number }, reason: string) {
      r.acting = false;
      r.terms[r.terms.length - 1]!.deposed = reason;
    },
  };
  return r;
}

/** A store whose calls from one process hang (that process is cut off from it) while `cut` is set. */
function partitioned(store: LeaseStore): LeaseStore & { cut: boolean } {
  const s = {
    cut: false,
    acquireLease: (id: string, ttl: number, over?: number) =>
      s.cut ? new Promise<never>(() => {}) : store.acquireLease(id, ttl, over),
    renewLease: (id: string, token: number, ttl: number) =>
      s.cut ? new Promise<never>(() => {}) : store.renewLease(id, token, ttl),
    releaseLease: (id: string, token: number) => (s.cut ? new Promise<never>(() => {}) : store.releaseLease(id, token)),
  };
  return s;
}

describe('leader election on a shared lease store', () => {
  it('one leader at a time; the standby leads once the leader stops, with a newer epoch', async () => {
    const store = new MemoryLeases();
    const registry = createRegistry();
    const a = new LeaderElection({ role: 'optimizer', store, registry }, config);
    const b = new LeaderElection({ role: 'optimizer', store }, config);
    const ha = recorder();
    const hb = recorder();
    const seen: LeaderTransition[] = [];
    b.onTransition((t) => seen.push(t));
    try {
      await a.start(ha);
      await b.start(hb);
      expect(a.leading).toBe(true);
      expect(b.leading).toBe(false);
      expect(b.epoch).toBeUndefined();
      await a.check();
      await expect(b.check()).rejects.toBeInstanceOf(LeadershipLostError);
      // A leader keeps its lease past several TTLs by renewing it.
      await new Promise((r) => setTimeout(r, 2 * config.ttl_ms));
      expect(a.leading).toBe(true);
      expect(hb.terms).toEqual([]);
      expect(await metricValues(registry)).toMatchObject({
        'pathpilot_leader{role="optimizer"}': 1,
        'pathpilot_leader_epoch{role="optimizer"}': a.epoch,
        'pathpilot_leader_transitions_total{role="optimizer",to="leader"}': 1,
      });
      const first = a.epoch!;
      await a.stop();
      expect(ha.terms).toEqual([{ epoch: first, deposed: 'stopping' }]);
      // Released on stop: the standby leads at its next attempt, not a TTL later.
      const took = await until(() => b.leading, 2000);
      expect(took).toBeLessThan(config.ttl_ms);
      expect(b.epoch).toBeGreaterThan(first);
      expect(hb.terms).toEqual([{ epoch: b.epoch }]);
      expect(seen).toEqual([{ role: 'optimizer', leading: true, epoch: b.epoch }]);
      expect(await metricValues(registry)).toMatchObject({
        'pathpilot_leader{role="optimizer"}': 0,
        'pathpilot_leader_epoch{role="optimizer"}': 0,
        'pathpilot_leader_transitions_total{role="optimizer",to="standby"}': 1,
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a leader cut off from the store steps down at its deadline; the old epoch is refused afterwards', async () => {
    const shared = new MemoryLeases();
    const cutOff = partitioned(shared);
    const a = new LeaderElection({ role: 'actuator', store: cutOff }, config);
    const b = new LeaderElection({ role: 'actuator', store: shared }, config);
    const ha = recorder();
    const hb = recorder();
    try {
      await a.start(ha);
      await b.start(hb);
      const old = a.epoch!;
      const t0 = Date.now();
      cutOff.cut = true;
      // The leader cannot confirm a renewal: it stops acting within its TTL, before anyone else may lead.
      await until(() => !ha.acting, 2000);
      const stepDown = Date.now() - t0;
      expect(stepDown).toBeLessThanOrEqual(config.ttl_ms + 300);
      expect(ha.terms[0]?.deposed).toMatch(/no renewal confirmed/);
      await until(() => b.leading, 2000);
      expect(b.epoch).toBeGreaterThan(old);
      // The deposed process's fence refuses, and so does anybody holding the old epoch.
      const err = await a.check().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LeadershipLostError);
      expect(isLeaseLost(err)).toBe(true);
      await expect(epochFence(shared, 'actuator', old, config.ttl_ms)()).rejects.toThrow(/epoch .* lost/);
      await epochFence(shared, 'actuator', b.epoch!, config.ttl_ms)();
      await b.check();
      // Stopping while still cut off, a campaign's store call hanging, does not hang.
      await new Promise((r) => setTimeout(r, 2 * config.renew_ms));
      const s0 = Date.now();
      await a.stop();
      expect(Date.now() - s0).toBeLessThan(config.ttl_ms);
    } finally {
      cutOff.cut = false;
      await b.stop();
      await a.stop();
    }
  });

  it('a leader that cannot start acting gives the leadership back and fails', async () => {
    const store = new MemoryLeases();
    const a = new LeaderElection({ role: 'actuator', store }, config);
    await expect(
      a.start({
        elected: async () => {
          throw new Error('queue unreachable');
        },
        deposed: async () => undefined,
      }),
    ).rejects.toThrow('queue unreachable');
    expect(a.leading).toBe(false);
    expect(store.holder(leaderLeaseId('actuator'))).toBeUndefined();
    await a.stop();
  });

  it('a leader takes over leases held from before its epoch, never newer ones', async () => {
    const store = new MemoryLeases();
    const stale = (await store.acquireLease('rollout-1', 60_000))!;
    const epoch = (await store.acquireLease(leaderLeaseId('actuator'), 60_000))!;
    const newer = (await store.acquireLease('rollout-2', 60_000))!;
    expect(await store.acquireLease('rollout-1', 60_000)).toBeUndefined();
    const taken = await store.acquireLease('rollout-1', 60_000, epoch);
    expect(taken).toBeGreaterThan(epoch);
    expect(await store.renewLease('rollout-1', stale, 60_000)).toBe(false);
    expect(await store.acquireLease('rollout-2', 60_000, epoch)).toBeUndefined();
    expect(await store.renewLease('rollout-2', newer, 60_000)).toBe(true);
  });
});

describe('leadership without a shared store', () => {
  it('the one process leads from start to stop', async () => {
    const l = createLeadership({ role: 'actuator' });
    expect(l).toBeInstanceOf(SoloLeadership);
    const h = recorder();
    await l.start(h);
    expect(l.leading).toBe(true);
    expect(l.epoch).toBe(0);
    await l.check();
    await l.stop();
    expect(h.terms).toEqual([{ epoch: 0, deposed: 'stopping' }]);
    await expect(l.check()).rejects.toBeInstanceOf(LeadershipLostError);
  });
});
