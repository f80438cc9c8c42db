import { connect } from 'node:net';
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
      scope.post('/v1/things/admin', { onRequest: requireRole(deps.auth, 'admin') }, async (req) => ({
        by: req.principal?.name,
      }));
      scope.get('/v1/cached', async (_req, reply) => reply.header('cache-control', 'no-cache').send({ cached: true }));
      scope.get('/v1/missing', async () => {
        throw new PathpilotError('PP_ERR_NOT_FOUND', 'no such thing');
      });
    },
  ]);
}

describe('api server', () => {
  it('serves health and metrics without auth', async () => {
    const a = await app();
    expect((await a.inject('/healthz')).json()).toEqual({ status: 'ok', components: {} });
    expect((await a.inject('/readyz')).json()).toEqual({ status: 'ok', components: {}, checks: { store: true } });
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

  it('accepts the Bearer scheme in any case (RFC 7235) and nothing else', async () => {
    const a = await app();
    const status = async (authorization: string) =>
      (await a.inject({ url: '/v1/things', headers: { authorization } })).statusCode;
    expect(await status('bearer viewer-token-0123456789')).toBe(200);
    expect(await status('BEARER viewer-token-0123456789')).toBe(200);
    expect(await status('Bearer   viewer-token-0123456789  ')).toBe(200);
    expect(await status('Bearerviewer-token-0123456789')).toBe(401);
    expect(await status('Basic viewer-token-0123456789')).toBe(401);
    expect(await status('Bearer ')).toBe(401);
  });

  it('authenticates before the body is parsed, whether the guard is declared onRequest or preHandler', async () => {
    let parsed = 0;
    const a = await buildApp({ registry: createRegistry(), auth }, [
      (scope, deps) => {
        scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
          parsed++;
          done(null, JSON.parse(body as string));
        });
        scope.post('/v1/pre', { preHandler: requireRole(deps.auth, 'approver') }, async (req) => ({ ok: req.principal?.name }));
        scope.post('/v1/on', { onRequest: requireRole(deps.auth, 'approver') }, async (req) => ({ ok: req.principal?.name }));
      },
    ]);
    const big = JSON.stringify({ filler: 'x'.repeat(1000 * 1000) });
    for (const url of ['/v1/pre', '/v1/on']) {
      const anonymous = await a.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: big });
      expect(anonymous.statusCode).toBe(401);
      const weak = await a.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: 'Bearer viewer-token-0123456789' },
        payload: big,
      });
      expect(weak.statusCode).toBe(403);
    }
    expect(parsed).toBe(0);
    const allowed = await a.inject({
      method: 'POST',
      url: '/v1/pre',
      headers: { 'content-type': 'application/json', authorization: 'bearer approver-token-0123456789' },
      payload: '{"a":1}',
    });
    expect(allowed.json()).toEqual({ ok: 'alex' });
    expect(parsed).toBe(1);
  });

  it('answers 401 to an unauthenticated upload before the client has sent its body', async () => {
    const a = await app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    const { port } = a.server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    try {
      socket.setTimeout(5000);
      // Only the head of a 1 MB request: a server that waited for the body would never answer.
      const head = await new Promise<string>((resolve, reject) => {
        let got = '';
        socket.on('data', (chunk: Buffer) => {
          got += chunk.toString('latin1');
          if (got.includes('\r\n\r\n')) resolve(got);
        });
        socket.on('timeout', () => reject(new Error('no answer within 5 s: the server waited for the body')));
        socket.on('error', reject);
        socket.write(
          'POST /v1/things/approve HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1048000\r\n\r\n',
        );
      });
      expect(head).toMatch(/^HTTP\/1\.1 401 /);
    } finally {
      socket.destroy();
      await a.close();
    }
  });

  it('marks every response nosniff and no-store unless a route chose its own caching', async () => {
    const a = await app();
    const viewer = { authorization: 'Bearer viewer-token-0123456789' };
    const responses = [
      await a.inject({ url: '/v1/things', headers: viewer }),
      await a.inject({ method: 'POST', url: '/v1/things/admin', headers: viewer }),
      await a.inject('/v1/things'),
      await a.inject('/v1/missing'),
      await a.inject('/no/such/route'),
      await a.inject('/healthz'),
      await a.inject('/metrics'),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 403, 401, 404, 404, 200, 200]);
    for (const r of responses) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['cache-control']).toBe('no-store');
    }
    const cached = await a.inject('/v1/cached');
    expect(cached.headers['cache-control']).toBe('no-cache');
    expect(cached.headers['x-content-type-options']).toBe('nosniff');
  });
});
