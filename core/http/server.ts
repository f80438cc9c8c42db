import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.ts';
import { PathpilotError } from '../errors.ts';
import { memoizeStop, type Component } from '../component.ts';
import { TokenAuthenticator } from './auth.ts';

export interface HealthCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HttpDeps {
  registry: Registry;
  auth: TokenAuthenticator;
  log?: Logger;
  health?: HealthCheck[];
}

/** Route plugins receive the shared dependencies; each registers its own routes (fastify encapsulation). */
export type RoutePlugin = (app: FastifyInstance, deps: HttpDeps) => Promise<void> | void;

/**
 * Builds the API app without listening (tests use `app.inject()`): health, metrics, typed error
 * mapping, then every route plugin.
 */
export async function buildApp(deps: HttpDeps, plugins: RoutePlugin[] = []): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof PathpilotError) return reply.code(err.statusCode).send({ error: err.message, code: err.code });
    const { statusCode: status, message } = err as Error & { statusCode?: number };
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: message, code: 'PP_ERR_VALIDATION' });
    deps.log?.error({ err }, 'api request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  app.get('/healthz', async (_req, reply) => {
    const results = await Promise.all(
      (deps.health ?? []).map(async (h) => [h.name, await h.check().catch(() => false)] as const),
    );
    const ok = results.every(([, v]) => v);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(results) });
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
}

/** The API server as a component; `url()` is known after start (port 0 picks a free one). */
export function createHttpServer(
  deps: HttpDeps,
  config: HttpServerConfig,
  plugins: RoutePlugin[] = [],
): Component & { url(): string; app(): FastifyInstance | undefined } {
  let app: FastifyInstance | undefined;
  let address = '';
  return {
    name: 'api',
    async start() {
      app = await buildApp(deps, plugins);
      address = await app.listen({ host: config.host, port: config.port });
    },
    stop: memoizeStop(async () => {
      await app?.close();
    }),
    url: () => address,
    app: () => app,
  };
}

export { TokenAuthenticator };
