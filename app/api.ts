/**
 * The API server of `start … api` and the demo: who may call it (tokens, OIDC, client
 * certificates), health, metrics, the roles' route plugins and the web console. A module of its own,
 * loaded only by processes that serve the API, so a collector or sink does not load fastify and the
 * console (app/runtime.ts builds what every process shares).
 */
import { randomBytes } from 'node:crypto';
import { createHttpServer, type RoutePlugin, type HealthCheck } from '../core/http/server.ts';
import { ChainAuthenticator, TokenAuthenticator, type Authenticator } from '../core/http/auth.ts';
import type { ApiConfig } from '../core/http/api-config.ts';
import { ClientCertAuthenticator } from '../core/http/client-cert.ts';
import { OidcAuthenticator } from '../core/http/oidc.ts';
import { batchedAccessLog } from '../core/http/access-log.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { saveAccessEntries } from '../analytics/queries/writes.ts';
import { consoleRoutes } from './console/routes.ts';
import type { Shared } from './runtime.ts';

/**
 * API tokens from `PATHPILOT_API_TOKENS` (`role:name:token,…`). Without it, one admin token is made up
 * for this process and returned so the caller can print it once (the demo puts it in the console URL).
 */
export function apiAuthenticator(
  env: NodeJS.ProcessEnv,
  api?: Pick<ApiConfig, 'oidc' | 'tls'>,
  log?: Logger,
): { auth: Authenticator; generated?: string } {
  // OIDC tokens (when an issuer is configured) are tried after the static ones; a verified client
  // certificate names a caller that sent no token (api.tls.client_roles).
  const oidc = api?.oidc;
  const certRoles = api?.tls.client_roles;
  const withOidc = (tokens: TokenAuthenticator): Authenticator => {
    const chain: Authenticator[] = [tokens];
    if (oidc?.issuer) chain.push(new OidcAuthenticator(oidc, log));
    if (certRoles && Object.values(certRoles).some((l) => l.length > 0)) chain.push(new ClientCertAuthenticator(certRoles));
    return chain.length === 1 ? tokens : new ChainAuthenticator(chain);
  };
  if (env.PATHPILOT_API_TOKENS) return { auth: withOidc(TokenAuthenticator.fromSpec(env.PATHPILOT_API_TOKENS)) };
  const token = randomBytes(18).toString('base64url');
  return { auth: withOidc(TokenAuthenticator.fromSpec(`admin:local-admin:${token}`)), generated: token };
}

export interface ApiOptions {
  host?: string;
  port?: number;
  plugins: RoutePlugin[];
  health?: HealthCheck[];
  /** Mount the web console (default true). */
  console?: boolean;
}

/**
 * The API server: health, metrics, the given route plugins and the web console. The console is built
 * when the server starts, after every role of the process is built, so it finds the actuator role
 * (and the demo's routers) in `shared.inProcess`; without the actuator it reads the store.
 */
export function createApi(shared: Shared, auth: Authenticator, options: ApiOptions) {
  const plugins = [...options.plugins];
  if (options.console !== false)
    plugins.push((app, deps) =>
      consoleRoutes({ shared, actuator: shared.inProcess.actuator, lab: shared.inProcess.lab })(app, deps),
    );
  return createHttpServer(
    {
      registry: shared.registry,
      auth,
      log: shared.log.child({ component: 'api' }),
      health: options.health ?? [],
      status: shared.supervisor.status,
      // Every call (who, from where, what, verdict) into ClickHouse's api_access.
      accessLog: batchedAccessLog((entries) => saveAccessEntries(shared.store, entries), {
        onError: (err, dropped) => shared.log.warn({ err: errorMessage(err), dropped }, 'API access log entries not written'),
      }),
    },
    { host: options.host ?? '127.0.0.1', port: options.port ?? 8080, tls: shared.config.root.api.tls },
    plugins,
  );
}

/** Standard health checks over the shared adapters. */
export function adapterHealth(shared: Shared): HealthCheck[] {
  return [{ name: 'store', check: () => shared.store.ping() }];
}
