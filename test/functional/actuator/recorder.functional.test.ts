/**
 * Proposal status transitions land in ClickHouse (server 18.16): the actuator records each one through
 * `storeProposalRecorder` into the `proposals` table the optimizer also writes, and the query library
 * reads the latest back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { readProposals } from '../../../analytics/queries/writes.ts';
import { SimulatedClock } from '../../../core/clock.ts';
import { createStore, ident, sql, tableRef, type Store } from '../../../core/store/index.ts';
import { storeProposalRecorder } from '../../../actuator/index.ts';
import { startRouterlessActuator } from '../../../actuator/testing.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { weightProposal } from './support.ts';

describe('proposal status transitions in ClickHouse', () => {
  let store: Store;
  beforeAll(async () => {
    store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_act_rec'), path: '' });
    await store.start();
    await migrate(store);
  });
  afterAll(async () => {
    await store?.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
    await store?.stop();
  });

  it('records proposed, awaiting-approval and rejected; the latest row is the rejected proposal', async () => {
    const clock = new SimulatedClock();
    // No routers: the policy leaves the proposal to a human.
    const { actuator, queue } = await startRouterlessActuator(
      { clock, recorder: storeProposalRecorder(store) },
      { self_heal_interval_s: 0 },
    );
    try {
      const id = uniqueName('rec');
      await actuator.submit(weightProposal(id, { created_at: clock.now() }), 'api:test');
      // A later second: `updated_at` has second resolution, and the latest version must win the read.
      await clock.advance(5_000);
      await actuator.reject(id, 'alice', 'not this week');

      const rows = await store.query<{ status: string; n: string }>(
        sql`SELECT status, count() AS n FROM ${tableRef(store, 'proposals')} WHERE id = ${id} GROUP BY status ORDER BY status`,
      );
      expect(rows.map((r) => r.status)).toEqual(['awaiting-approval', 'proposed', 'rejected']);
      const [latest] = await readProposals(store, { ids: [id] });
      expect(latest?.status).toBe('rejected');
      expect(latest?.history.map((h) => h.status)).toEqual(['proposed', 'awaiting-approval', 'rejected']);
    } finally {
      await actuator.stop();
      await queue.stop();
    }
  });
});
