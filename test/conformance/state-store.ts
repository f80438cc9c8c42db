/**
 * The actuator's StateStore contract (actuator/state.ts), checked against every implementation: the unit
 * tier runs it on the in-process store (actuator/state.test.ts), the functional tier on Redis
 * (test/functional/actuator/state-store.functional.test.ts). Records, the one decision per proposal, and the
 * rollout lease with its fencing token must behave alike, since the rollout's safety rests on them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { proposalSchema, type Proposal } from '../../core/proposal.ts';
import type { ProposalRecord, StateStore } from '../../actuator/state.ts';

/** A started store on the backend under test; every call reaches the same data (two "processes"). */
export type StateStoreFactory = () => Promise<StateStore>;

let seq = 0;
function record(status: Proposal['status'] = 'proposed', id = `p-${process.pid}-${Date.now()}-${++seq}`): ProposalRecord {
  const at = 1_767_225_600_000;
  const proposal = proposalSchema.parse({
    id,
    created_at: at,
    kind: 'path-weights',
    reason: 'conformance',
    inputs: {},
    intents: [
      {
        kind: 'path-weights',
        router: 'site-a',
        pair: ['site-a', 'site-b'],
        class: '*',
        dst_prefixes: ['10.2.0.0/16'],
        weights: { 'link-1': 3, 'link-2': 1 },
      },
    ],
    predicted: { cost_per_day: 10, max_utilization: 0.5, slo_risk: 0 },
    risk: 'low',
    status,
    history: [{ status, at }],
  });
  return { proposal, updatedAt: at };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function stateStoreConformance(name: string, factory: StateStoreFactory): void {
  describe(`StateStore conformance: ${name}`, () => {
    const opened: StateStore[] = [];
    async function open(): Promise<StateStore> {
      const s = await factory();
      opened.push(s);
      return s;
    }
    afterAll(async () => {
      for (const s of opened) await s.stop().catch(() => undefined);
    });

    it('stores whole records: get returns what put wrote, a second put replaces it, list holds each once', async () => {
      const s = await open();
      const r = record();
      expect(await s.get(r.proposal.id)).toBeUndefined();
      await s.put(r);
      expect(await s.get(r.proposal.id)).toEqual(r);
      const later: ProposalRecord = {
        ...r,
        proposal: { ...r.proposal, status: 'approved' },
        decidedBy: 'alice',
        updatedAt: r.updatedAt + 1,
      };
      await s.put(later);
      expect(await s.get(r.proposal.id)).toEqual(later);
      const listed = (await s.list()).filter((x) => x.proposal.id === r.proposal.id);
      expect(listed).toEqual([later]);
    });

    it('sets the realized effect once, on the record as it is now, across instances', async () => {
      const [a, b] = [await open(), await open()];
      const r = record('confirmed');
      await a.put(r);
      const realized = {
        before: { from: 0, to: 3_600_000 },
        after: { from: 4_200_000, to: 7_800_000 },
        cost_per_day: 33.6,
        cost_per_day_before: 108.123456789012,
        gb_per_day: 1440,
        gb_per_day_before: 1200,
        slo_pair_class_minutes: 3,
        slo_pair_class_minutes_before: 10,
        measured_at: r.updatedAt + 5,
      };
      // A write by another instance since: the figures land on it, not on the record first read.
      const later: ProposalRecord = { ...r, error: 'noted meanwhile' };
      await b.put(later);
      const set = await a.putRealized(r.proposal.id, realized);
      const expected: ProposalRecord = { ...later, proposal: { ...later.proposal, realized }, updatedAt: realized.measured_at };
      expect(set).toEqual(expected);
      expect(await b.get(r.proposal.id)).toEqual(expected);
      // Once: a second writer (another actuator measuring it too) writes nothing.
      expect(await b.putRealized(r.proposal.id, { ...realized, cost_per_day: 1 })).toBeUndefined();
      expect((await a.get(r.proposal.id))?.proposal.realized).toEqual(realized);
      expect(await a.putRealized('no-such-proposal', realized)).toBeUndefined();
    });

    it('grants one decision per proposal, across instances', async () => {
      const [a, b] = [await open(), await open()];
      const id = record().proposal.id;
      expect(await a.claimDecision(id, 'alice')).toBe(true);
      expect(await b.claimDecision(id, 'bob')).toBe(false);
      expect(await a.claimDecision(id, 'alice')).toBe(false);
    });

    it('leases a rollout to one holder, with tokens that only grow', async () => {
      const [a, b] = [await open(), await open()];
      const id = record().proposal.id;
      const first = await a.acquireLease(id, 10_000);
      expect(first).toBeTypeOf('number');
      expect(await b.acquireLease(id, 10_000)).toBeUndefined();
      // Only the holder renews or releases.
      expect(await b.renewLease(id, first! + 1, 10_000)).toBe(false);
      expect(await a.renewLease(id, first!, 10_000)).toBe(true);
      await b.releaseLease(id, first! + 1);
      expect(await b.acquireLease(id, 10_000)).toBeUndefined();
      await a.releaseLease(id, first!);
      const second = await b.acquireLease(id, 10_000);
      expect(second).toBeGreaterThan(first!);
      // The sequence is shared by all proposals: a lease on another proposal gets a larger token still.
      const other = await a.acquireLease(record().proposal.id, 10_000);
      expect(other).toBeGreaterThan(second!);
    });

    it('lets a lease lapse after its time to live; the old holder can then neither renew nor write', async () => {
      const [a, b] = [await open(), await open()];
      const r = record('applying');
      const stale = await a.acquireLease(r.proposal.id, 150);
      expect(stale).toBeTypeOf('number');
      expect(await a.putFenced(r, stale!)).toBe(true);
      await sleep(400);
      const fresh = await b.acquireLease(r.proposal.id, 10_000);
      expect(fresh).toBeGreaterThan(stale!);
      expect(await a.renewLease(r.proposal.id, stale!, 10_000)).toBe(false);
      const overwritten: ProposalRecord = { ...r, error: 'stale writer' };
      expect(await a.putFenced(overwritten, stale!)).toBe(false);
      expect((await b.get(r.proposal.id))?.error).toBeUndefined();
      const current: ProposalRecord = { ...r, proposal: { ...r.proposal, status: 'baking' } };
      expect(await b.putFenced(current, fresh!)).toBe(true);
      expect(await a.get(r.proposal.id)).toEqual(current);
    });

    it('refuses a fenced write without any lease', async () => {
      const s = await open();
      const r = record();
      expect(await s.putFenced(r, 1)).toBe(false);
      expect(await s.get(r.proposal.id)).toBeUndefined();
    });
  });
}
