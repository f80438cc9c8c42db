import Fastify, { type FastifyInstance, type FastifyPluginAsync, type RouteOptions } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import { PathpilotError } from '../errors.ts';
import { memoizeStop, type Component, type ComponentStatus, type StatusBoard } from '../component.ts';
import { TokenAuthenticator, isRoleGuard, type Authenticator } from './auth.ts';
import type { ApiTlsConfig } from './api-config.ts';
import { accessEntry, type AccessLog } from './access-log.ts';
import { loadTls, watchTls, type TlsMaterial } from './tls.ts';
import type { TLSSocket } from 'node:tls';

/** A dependency the process needs reachable to be ready (e.g. the store answering a ping). */
export interface HealthCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HttpDeps {
  registry: Registry;
  auth: Authenticator;
  log?: Logger;
  /** Dependency checks: part of readiness (`/readyz`), not of liveness. */
  health?: HealthCheck[];
  /** The process's components: `/healthz` reports each one's liveness, `/readyz` its readiness. */
  status?: StatusBoard;
  /** Where every call is recorded (who, from where, what, verdict): ClickHouse's api_access in the roles. */
  accessLog?: AccessLog;
}

/** Route plugins receive the shared dependencies; each registers its own routes (fastify encapsulation). */
export type RoutePlugin = (app: FastifyInstance, deps: HttpDeps) => Promise<void> | void;

/**
 * Every response is JSON or text a browser must not sniff into something else, and none of it
 * (proposals, plans, health, metrics) may be served from a cache: it is live state, some of it
 * only for the caller's role. A route may still set its own cache-control (console assets do).
 */
export const responseSecurityHeaders = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

/**
 * Role guards run in `onRequest`, before fastify reads and parses the body, so an unauthenticated
 * caller cannot make the server read 1 MB and parse it first. Plugins that list a guard as a
 * `preHandler` (the older style) get it moved; other preHandlers stay where they are.
 */
export function authenticateBeforeBody(route: RouteOptions): void {
  const pre = route.preHandler;
  if (!pre) return;
  const list = Array.isArray(pre) ? pre : [pre];
  const guards = list.filter(isRoleGuard);
  if (guards.length === 0) return;
  const rest = list.filter((h) => !isRoleGuard(h));
  route.preHandler = rest.length ? rest : undefined;
  const onRequest = route.onRequest ? (Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]) : [];
  route.onRequest = [...guards, ...onRequest] as RouteOptions['onRequest'];
}

/**
 * Builds the API app without listening (tests use `app.inject()`): response security headers,
 * authentication before body parsing, health, metrics, typed error mapping, then every route plugin.
 */
export async function buildApp(deps: HttpDeps, plugins: RoutePlugin[] = [], tls?: TlsMaterial): Promise<FastifyInstance> {
  const app = (tls
    ? Fastify({ logger: false, bodyLimit: 1024 * 1024, https: tls })
    : Fastify({ logger: false, bodyLimit: 1024 * 1024 })) as unknown as FastifyInstance;

  app.addHook('onRoute', authenticateBeforeBody);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(responseSecurityHeaders);
    done();
  });
  if (tls?.requestCert && !tls.rejectUnauthorized) {
    // Mutual TLS with exempt paths: the handshake let every client in, so each request outside them needs
    // a certificate Node verified against the CA. Runs before authentication and before the body.
    const exempt = tls.exempt;
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      if (exempt.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) return;
      if ((request.raw.socket as TLSSocket).authorized) return;
      return reply
        .code(401)
        .send({ error: "a client certificate signed by the API's CA is required", code: 'PP_ERR_UNAUTHORIZED' });
    });
  }

  if (deps.accessLog) {
    const log = deps.accessLog;
    app.addHook('onResponse', (request, reply, done) => {
      log.record(accessEntry(request, reply, Date.now()));
      done();
    });
  }

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof PathpilotError) return reply.code(err.statusCode).send({ error: err.message, code: err.code });
    const { statusCode: status, message } = err as Error & { statusCode?: number };
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: message, code: 'PP_ERR_VALIDATION' });
    deps.log?.error({ err }, 'api request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  // Liveness: every component alive (no dead background loop). A store outage is not a reason to
  // restart the process, so dependency checks are only in readiness.
  app.get('/healthz', async (_req, reply) => {
    const live = deps.status?.liveness() ?? { ok: true, components: {} };
    return reply.code(live.ok ? 200 : 503).send({ status: live.ok ? 'ok' : 'failed', components: live.components });
  });

  // Readiness: every component started and ready, and every dependency check passing.
  app.get('/readyz', async (_req, reply) => {
    const [components, checks] = await Promise.all([
      deps.status?.readiness() ?? { ok: true, components: {} as Record<string, ComponentStatus> },
      Promise.all((deps.health ?? []).map(async (h) => [h.name, await h.check().catch(() => false)] as const)),
    ]);
    const ok = components.ok && checks.every(([, v]) => v);
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'not ready', components: components.components, checks: Object.fromEntries(checks) });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', deps.registry.contentType).send(await deps.registry.metrics());
  });

  for (const plugin of plugins) {
    const wrapped: FastifyPluginAsync = async (scope) => {
      await plugin(scope, deps);
    };
    await app.register(wrapped);
  }
  return app;
}

export interface HttpServerConfig {
  host: string;
  port: number;
  /** HTTPS (and mutual TLS with a client CA) when its files are set; reloaded when they change. */
  tls?: ApiTlsConfig;
}

/** The API server as a component; `url()` is known after start (port 0 picks a free one). */
export function createHttpServer(
  deps: HttpDeps,
  config: HttpServerConfig,
  plugins: RoutePlugin[] = [],
): Component & { url(): string; app(): FastifyInstance | undefined } {
  let app: FastifyInstance | undefined;
  let address = '';
  let stopWatch: (() => void) | undefined;
  return {
    name: 'api',
    async start() {
      const tls = config.tls?.cert_file ? loadTls(config.tls) : undefined;
      app = await buildApp(deps, plugins, tls);
      address = await app.listen({ host: config.host, port: config.port });
      if (tls && config.tls)
        stopWatch = watchTls(app.server as unknown as { setSecureContext(o: object): void }, config.tls, deps.log);
    },
    stop: memoizeStop(async () => {
      stopWatch?.();
      await app?.close();
      await deps.accessLog?.close();
    }),
    ready: async () => (address ? { ok: true } : { ok: false, detail: 'not listening' }),
    url: () => address,
    app: () => app,
  };
}

export { TokenAuthenticator };
