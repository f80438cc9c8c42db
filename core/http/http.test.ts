import { describe, expect, it } from 'vitest';
import { buildApp } from './server.ts';
import { TokenAuthenticator, requireRole } from './auth.ts';
import { createRegistry, createStageMetrics } from '../metrics.ts';
import { PathpilotError } from '../errors.ts';

const auth = TokenAuthenticator.fromSpec(
  'viewer:vera:viewer-token-0123456789,approver:alex:approver-token-0123456789,admin:root:admin-token-0123456789',
);

async function app() {
  const registry = createRegistry();
  createStageMetrics(registry, 'pathpilot_t').received.inc(2);
  return buildApp({ registry, auth, health: [{ name: 'store', check: async () => true }] }, [
    (scope, deps) => {
      scope.get('/v1/things', { preHandler: requireRole(deps.auth, 'viewer') }, async () => ({ things: [] }));
      scope.post('/v1/things/approve', { preHandler: requireRole(deps.auth, 'approver') }, async (req) => ({
        by: req.principal?.name,
      }));
      scope.get('/v1/missing', async () => {
        throw new PathpilotError('PP_ERR_NOT_FOUND', 'no such thing');
      });
    },
  ]);
}

describe('api server', () => {
  it('serves health and metrics without auth', async () => {
    const a = await app();
    expect((await a.inject('/healthz')).json()).toEqual({ status: 'ok', checks: { store: true } });
    expect((await a.inject('/metrics')).body).toContain('pathpilot_t_received_total 2');
  });

  it('authenticates tokens and checks roles', async () => {
    const a = await app();
    expect((await a.inject('/v1/things')).statusCode).toBe(401);
    expect((await a.inject({ url: '/v1/things', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(
      401,
    );
    expect((await a.inject({ url: '/v1/things', headers: { authorization: 'Bearer viewer-token-0123456789' } })).statusCode).toBe(
      200,
    );
    const denied = await a.inject({
      method: 'POST',
      url: '/v1/things/approve',
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    expect(denied.statusCode).toBe(403);
    const ok = await a.inject({
      method: 'POST',
      url: '/v1/things/approve',
      headers: { authorization: 'Bearer admin-token-0123456789' },
    });
    expect(ok.json()).toEqual({ by: 'root' });
  });

  it('maps typed errors to their HTTP status', async () => {
    const a = await app();
    const res = await a.inject('/v1/missing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'no such thing', code: 'PP_ERR_NOT_FOUND' });
  });

  it('rejects malformed token specs and short tokens', () => {
    expect(() => TokenAuthenticator.fromSpec('king:x:abcdefghijklmnopq')).toThrow(/role/);
    expect(() => TokenAuthenticator.fromSpec('admin:x:short')).toThrow(/shorter than 16/);
  });
});
