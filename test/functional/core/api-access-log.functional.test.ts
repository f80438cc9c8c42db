/**
 * The API's access log on a real ClickHouse: every call — refused or allowed — lands in `api_access` with
 * who, from where, which route and the verdict, batched off the request path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../analytics/schema/index.ts';
import { saveAccessEntries } from '../../../analytics/queries/writes.ts';
import { batchedAccessLog } from '../../../core/http/access-log.ts';
import { requireRole, TokenAuthenticator } from '../../../core/http/auth.ts';
import { createHttpServer } from '../../../core/http/server.ts';
import { createRegistry } from '../../../core/metrics.ts';
import { createStore, ident, sql } from '../../../core/store/index.ts';
import type { Store } from '../../../core/store/types.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const VIEWER = 'viewer-token-0123456789abcdef';
let store: Store;
let api: ReturnType<typeof createHttpServer>;

beforeAll(async () => {
  store = createStore({ kind: 'server', url: requireService('clickhouse'), database: uniqueName('pp_access'), path: '' });
  await store.start();
  await migrate(store);
  const auth = TokenAuthenticator.fromSpec(`viewer:vera:${VIEWER}`);
  api = createHttpServer(
    { registry: createRegistry(), auth, accessLog: batchedAccessLog((e) => saveAccessEntries(store, e), { everyMs: 100 }) },
    { host: '127.0.0.1', port: 0 },
    [
      (app, deps) => {
        app.get('/actuator/proposals/:id', { preHandler: requireRole(deps.auth, 'viewer') }, async () => ({ ok: true }));
        app.post('/actuator/proposals/:id/approve', { preHandler: requireRole(deps.auth, 'approver') }, async () => ({}));
      },
    ],
  );
  await api.start();
});
afterAll(async () => {
  await api?.stop();
  await store?.exec(sql`DROP DATABASE IF EXISTS ${ident(store.database)}`).catch(() => undefined);
  await store?.stop();
});

describe('API access log in ClickHouse', () => {
  it('records every call with who, source, service, route pattern and verdict', async () => {
    const call = (method: string, path: string, token?: string) =>
      fetch(`${api.url()}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await call('GET', '/actuator/proposals/p-1')).status).toBe(401);
    expect((await call('GET', '/actuator/proposals/p-1', VIEWER)).status).toBe(200);
    expect((await call('POST', '/actuator/proposals/p-1/approve', VIEWER)).status).toBe(403);
    expect((await call('GET', '/nowhere', VIEWER)).status).toBe(404);
    await api.stop(); // flushes the last batch
    const rows = await store.query<Record<string, unknown>>(
      sql`SELECT source, principal, role, service, method, action, status, verdict FROM ${ident(store.database)}.api_access ORDER BY time, status`,
    );
    expect(rows.map((r) => [r['principal'], r['method'], r['action'], Number(r['status']), r['verdict']]).sort()).toEqual(
      [
        ['', 'GET', '/actuator/proposals/:id', 401, 'unauthorized'],
        ['vera', 'GET', '/actuator/proposals/:id', 200, 'allowed'],
        ['vera', 'POST', '/actuator/proposals/:id/approve', 403, 'forbidden'],
        ['', 'GET', 'unmatched', 404, 'refused'],
      ].sort(),
    );
    expect(rows.every((r) => r['source'] === '127.0.0.1' && (r['service'] === 'actuator' || r['action'] === 'unmatched'))).toBe(
      true,
    );
  });
});
