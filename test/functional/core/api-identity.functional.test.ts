/**
 * The API's identity controls over real sockets (issue 18): mutual TLS with an enterprise CA made here with
 * `openssl` (a client without a certificate, or with one the CA did not sign, is refused in the handshake),
 * a certificate rotated on disk served without a restart, and OIDC bearer tokens from a local test issuer
 * (discovery + JWKS over HTTP, RS256) mapped to roles by their groups claim, beside the static tokens.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiConfigSchema } from '../../../core/http/api-config.ts';
import { ChainAuthenticator, requireRole, TokenAuthenticator } from '../../../core/http/auth.ts';
import { ClientCertAuthenticator } from '../../../core/http/client-cert.ts';
import { OidcAuthenticator } from '../../../core/http/oidc.ts';
import { createHttpServer, type RoutePlugin } from '../../../core/http/server.ts';
import { createRegistry } from '../../../core/metrics.ts';

const dir = mkdtempSync(join(tmpdir(), 'pp-api-identity-'));
const file = (name: string) => join(dir, name);
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', timeout: 20_000 });

/** A key and a certificate for `cn` signed by the CA (or self-signed when `ca` is false). */
function issue(name: string, cn: string, ca = true, ext = '', subject = '') {
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}${subject}`,
    '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)); // prettier-ignore
  if (ext) writeFileSync(file(`${name}.ext`), ext);
  ssl('x509', '-req', '-in', file(`${name}.csr`), '-days', '2', '-out', file(`${name}.crt`),
    ...(ca ? ['-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial'] : ['-signkey', file(`${name}.key`)]),
    ...(ext ? ['-extfile', file(`${name}.ext`)] : [])); // prettier-ignore
}

const STATIC = 'static-viewer-token-0123456789';
const ISSUER_AUD = 'pathpilot-api';
let api: ReturnType<typeof createHttpServer>;
let issuer: Server;
let issuerUrl: string;
let signingKey: CryptoKey;

const whoami: RoutePlugin = (app, deps) => {
  app.get('/whoami', { preHandler: requireRole(deps.auth, 'viewer') }, async (req) => req.principal);
  app.post('/decide', { preHandler: requireRole(deps.auth, 'approver') }, async (req) => ({ by: req.principal!.name }));
};

beforeAll(async () => {
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=pathpilot test enterprise CA', '-keyout', file('ca.key'), '-out', file('ca.crt')); // prettier-ignore
  issue('server', 'pathpilot-api-1', true, 'subjectAltName=IP:127.0.0.1\n');
  issue('client', 'ops-automation', true, 'extendedKeyUsage=clientAuth\n');
  issue('rogue', 'ops-automation', false);
  issue('guest', 'guest-laptop', true, 'extendedKeyUsage=clientAuth\n');
  issue('noc', 'noc-console', true, 'extendedKeyUsage=clientAuth\n', '/OU=noc');

  // The local OIDC issuer: discovery document and JWKS.
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  issuer = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration')
      res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/jwks` }));
    else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as { port: number }).port}`;

  const config = apiConfigSchema.parse({
    tls: {
      cert_file: file('server.crt'),
      key_file: file('server.key'),
      client_ca_file: file('ca.crt'),
      reload_interval_s: 1,
      client_roles: { approver: ['ops-automation'], viewer: ['noc'] },
    },
    oidc: { issuer: issuerUrl, audience: ISSUER_AUD, roles: { approver: ['netops'], viewer: ['noc'] } },
  });
  const auth = new ChainAuthenticator([
    TokenAuthenticator.fromSpec(`viewer:vera:${STATIC}`),
    new OidcAuthenticator(config.oidc),
    new ClientCertAuthenticator(config.tls.client_roles),
  ]);
  api = createHttpServer({ registry: createRegistry(), auth }, { host: '127.0.0.1', port: 0, tls: config.tls }, [whoami]);
  await api.start();
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await new Promise((r) => issuer?.close(r));
});

type Client = 'client' | 'rogue' | 'guest' | 'noc';
const agent = (client?: Client) =>
  new Agent({
    connect: {
      ca: readFileSync(file('ca.crt')),
      ...(client ? { cert: readFileSync(file(`${client}.crt`)), key: readFileSync(file(`${client}.key`)) } : {}),
    },
  });

async function call(path: string, opts: { client?: Client; token?: string; method?: 'GET' | 'POST' } = {}) {
  const res = await request(`${api.url()}${path}`, {
    method: opts.method ?? 'GET',
    dispatcher: agent(opts.client),
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

const token = (claims: Record<string, unknown>, o: { aud?: string; exp?: string; key?: CryptoKey } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(issuerUrl)
    .setAudience(o.aud ?? ISSUER_AUD)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '10m')
    .sign(o.key ?? signingKey);

describe('mutual TLS', () => {
  it('serves HTTPS and refuses, during the handshake, a client without a certificate or with one the CA did not sign', async () => {
    expect(api.url()).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(call('/whoami', { token: STATIC })).rejects.toThrow();
    await expect(call('/whoami', { client: 'rogue', token: STATIC })).rejects.toThrow();
    expect(await call('/whoami', { client: 'client', token: STATIC })).toEqual({
      status: 200,
      body: { name: 'vera', role: 'viewer' },
    });
    // A certificate no client_roles entry names admits the connection; the role still comes from a token.
    expect((await call('/whoami', { client: 'guest' })).status).toBe(401);
  });

  it('names a caller with no token by its certificate: CN or OU mapped to a role; a token decides when sent', async () => {
    expect(await call('/whoami', { client: 'client' })).toEqual({
      status: 200,
      body: { name: 'cert:ops-automation', role: 'approver' },
    });
    expect(await call('/decide', { client: 'client', method: 'POST' })).toEqual({
      status: 200,
      body: { by: 'cert:ops-automation' },
    });
    expect(await call('/whoami', { client: 'noc' })).toEqual({ status: 200, body: { name: 'cert:noc-console', role: 'viewer' } });
    expect((await call('/decide', { client: 'noc', method: 'POST' })).status).toBe(403);
    // One caller, one identity: the token's principal, not the certificate's.
    expect((await call('/decide', { client: 'client', token: STATIC, method: 'POST' })).status).toBe(403);
    expect(() => apiConfigSchema.parse({ tls: { client_roles: { admin: ['x'] } } })).toThrow(/client_roles needs client_ca_file/);
  });

  it('a certificate replaced on disk is served to new connections without a restart', async () => {
    const served = () =>
      new Promise<PeerCertificate>((resolve, reject) => {
        const { port } = new URL(api.url());
        const s = connect({
          host: '127.0.0.1',
          port: Number(port),
          ca: readFileSync(file('ca.crt')),
          cert: readFileSync(file('client.crt')),
          key: readFileSync(file('client.key')),
        });
        s.once('secureConnect', () => {
          resolve(s.getPeerCertificate());
          s.end();
        });
        s.once('error', reject);
      });
    expect((await served()).subject.CN).toBe('pathpilot-api-1');
    issue('server-next', 'pathpilot-api-2', true, 'subjectAltName=IP:127.0.0.1\n');
    // Key first, then certificate, each moved in whole (as cert-manager or an agent writes them).
    renameSync(file('server-next.key'), file('server.key'));
    renameSync(file('server-next.crt'), file('server.crt'));
    const deadline = Date.now() + 10_000;
    let cn = '';
    while (Date.now() < deadline && cn !== 'pathpilot-api-2') {
      await new Promise((r) => setTimeout(r, 250));
      cn = String((await served()).subject.CN);
    }
    expect(cn).toBe('pathpilot-api-2');
    expect((await call('/whoami', { client: 'client', token: STATIC })).status).toBe(200);
  });
});

describe('mutual TLS with exempt paths', () => {
  it('lets a client without a certificate call only the exempt paths; elsewhere a verified certificate is still required', async () => {
    const open: RoutePlugin = (app) => {
      app.post('/slack/interactions', async () => ({ ok: true }));
    };
    const config = apiConfigSchema.parse({
      tls: {
        cert_file: file('server.crt'),
        key_file: file('server.key'),
        client_ca_file: file('ca.crt'),
        client_cert_exempt: ['/slack/interactions'],
      },
    });
    const server = createHttpServer(
      { registry: createRegistry(), auth: TokenAuthenticator.fromSpec(`viewer:vera:${STATIC}`) },
      { host: '127.0.0.1', port: 0, tls: config.tls },
      [whoami, open],
    );
    await server.start();
    try {
      const at = async (path: string, o: { client?: Client; token?: string; method?: 'GET' | 'POST' } = {}) => {
        const res = await request(`${server.url()}${path}`, {
          method: o.method ?? 'GET',
          dispatcher: agent(o.client),
          headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
        });
        return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
      };
      expect(await at('/slack/interactions', { method: 'POST' })).toEqual({ status: 200, body: { ok: true } });
      // No certificate, or one the CA did not sign: refused per request, whatever the token.
      const bare = await at('/whoami', { token: STATIC });
      expect(bare.status).toBe(401);
      expect(bare.body.error).toMatch(/client certificate signed by the API's CA is required/);
      expect((await at('/whoami', { client: 'rogue', token: STATIC })).status).toBe(401);
      expect((await at('/slack/interactions/../../whoami', { token: STATIC })).status).toBe(401);
      expect(await at('/whoami', { client: 'client', token: STATIC })).toEqual({
        status: 200,
        body: { name: 'vera', role: 'viewer' },
      });
    } finally {
      await server.stop();
    }
  });
  it('refuses exempt paths without a client CA', () => {
    expect(() => apiConfigSchema.parse({ tls: { cert_file: 'a', key_file: 'b', client_cert_exempt: ['/metrics'] } })).toThrow(
      /client_cert_exempt needs client_ca_file/,
    );
  });
});

describe('OIDC bearer tokens from a local issuer', () => {
  it('accepts a valid token and maps its groups to a role; the static tokens keep working', async () => {
    const t = await token({ preferred_username: 'alice', groups: ['staff', 'netops'] });
    expect(await call('/whoami', { client: 'client', token: t })).toEqual({
      status: 200,
      body: { name: 'oidc:alice', role: 'approver' },
    });
    expect(await call('/decide', { client: 'client', token: t, method: 'POST' })).toEqual({
      status: 200,
      body: { by: 'oidc:alice' },
    });
    const noc = await token({ email: 'nick@example.net', groups: ['noc'] });
    expect((await call('/whoami', { client: 'client', token: noc })).body).toEqual({
      name: 'oidc:nick@example.net',
      role: 'viewer',
    });
    expect((await call('/decide', { client: 'client', token: noc, method: 'POST' })).status).toBe(403);
  });

  it('refuses a token for another audience, an expired one, one signed by another key, and one with no mapped group', async () => {
    const other = (await generateKeyPair('RS256')).privateKey;
    const bad = [
      await token({ preferred_username: 'alice', groups: ['netops'] }, { aud: 'someone-else' }),
      await token({ preferred_username: 'alice', groups: ['netops'] }, { exp: '-5m' }),
      await token({ preferred_username: 'alice', groups: ['netops'] }, { key: other }),
      await token({ preferred_username: 'eve', groups: ['guests'] }),
    ];
    for (const t of bad) expect((await call('/whoami', { client: 'client', token: t })).status).toBe(401);
  });
});
