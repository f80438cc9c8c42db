/**
 * The console of an API-only process (`pathpilot start api`) on the ClickHouse server (18.16 here):
 * proposals, their statuses, the audit trail and the counts it reads through storeAudit must come out
 * of the server's SQL dialect as they do from chDB (app/console/start-api.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { ident, sql } from '../../../core/store/sql.ts';
import { createApi } from '../../../app/api.ts';
import type { Shared } from '../../../app/runtime.ts';
import { storeAudit } from '../../../app/console/audit.ts';
import { seedRemoteDecisions, seededShared } from '../../../app/console/testing.ts';
import { requireService } from '../../support/services.ts';

const minute = 60_000;
const viewer = 'viewer-token-start-api-functional';

describe('console without the actuator role, on the ClickHouse server', () => {
  const now = Math.floor(Date.now() / minute) * minute;
  let shared: Shared;
  let api: ReturnType<typeof createApi>;

  beforeAll(async () => {
    shared = await seededShared(now, {}, false, requireService('clickhouse'));
    await seedRemoteDecisions(shared, now);
    api = createApi(shared, TokenAuthenticator.fromSpec(`viewer:vera:${viewer}`), { port: 0, plugins: [] });
    await api.start();
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    if (shared) {
      await shared.store.exec(sql`DROP DATABASE IF EXISTS ${ident(shared.store.database)}`);
      await shared.store.stop();
    }
  });

  it('reads proposal statuses, the audit trail and the counts through the server', async () => {
    const audit = storeAudit(shared.store);
    expect((await audit.list()).map((p) => [p.id, p.status])).toEqual([
      ['p-remote', 'proposed'],
      ['p-remote-done', 'confirmed'],
    ]);
    const events = await audit.events(10);
    expect(events.map((e) => e.event)).toEqual(['proposed', 'approved', 'confirmed', 'proposed']);
    expect(events.map((e) => e.time)).toEqual([now - 90 * minute, now - 80 * minute, now - 60 * minute, now - 20 * minute]);
    expect(await audit.counts()).toEqual({ proposals: 2, applied: 1, rolled_back: 0 });
  });

  it('serves the page and the proposals route from the API server', async () => {
    const app = api.app()!;
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    const res = await app.inject({
      method: 'GET',
      url: '/console/api/proposals',
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      decides: false,
      proposals: [{ id: 'p-remote', actionable: true }, { id: 'p-remote-done' }],
    });
  });
});
