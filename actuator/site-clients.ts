/**
 * One VyOS client per site router, shared by every part of the actuator, with the key pathpilot holds
 * for it: the one it rotated (`actuator.router_keys.store`), else the site's `router.api_key_env`. With a
 * store, the keyring lets a rotation switch the shared client to the new key (security/router-keys.ts).
 */
import { parseSection, sectionOf } from '../core/component.ts';
import type { LoadedConfig } from '../core/config/load.ts';
import { Topology } from '../core/config/topology.ts';
import { actuatorConfigSchema } from './config.ts';
import { RouterKeyStore, type RouterKeyring } from './security/router-keys.ts';
import { vyosClientForSite, type VyosClient } from './vyos/client.ts';
import type { RouterApi } from './vyos/types.ts';

export interface SiteClientsOptions {
  topology: Topology;
  env: NodeJS.ProcessEnv;
  /** The key store's file (`actuator.router_keys.store`); '' or none: the environment's keys only. */
  keyStore?: string;
  commitTimeoutMs?: number;
  /** A router URL replacing an empty `api_url` (the lab assigns them once it runs: read when a client is made). */
  urlOf?: (site: string) => string | undefined;
}

export interface SiteClients {
  routerFor(site: string): RouterApi;
  /** Present with a key store. */
  routerKeys?: RouterKeyring;
}

export function createSiteClients(o: SiteClientsOptions): SiteClients {
  const clients = new Map<string, VyosClient>();
  const store = o.keyStore ? RouterKeyStore.load(o.keyStore) : undefined;
  const clientFor = (site: string, key?: string): VyosClient => {
    const apiKey = key ?? store?.get(site)?.key;
    const url = o.urlOf?.(site);
    return vyosClientForSite(o.topology.site(site), {
      env: o.env,
      ...(o.commitTimeoutMs !== undefined ? { commitTimeoutMs: o.commitTimeoutMs } : {}),
      ...(url ? { url } : {}),
      ...(apiKey ? { apiKey } : {}),
    });
  };
  const routerFor = (site: string): RouterApi => {
    let client = clients.get(site);
    if (!client) clients.set(site, (client = clientFor(site)));
    return client;
  };
  if (!store) return { routerFor };
  return {
    routerFor,
    routerKeys: {
      store,
      current: (site) => store.get(site)?.key ?? o.env[o.topology.site(site).router.api_key_env] ?? '',
      probe: (site, key) => clientFor(site, key),
      use: (site, key) => clients.get(site)?.useKey(key),
    },
  };
}

/**
 * The site clients as `pathpilot.yaml` describes them: the actuator section's key store and commit
 * timeout. What the actuator role and the CLI commands that talk to routers use, so a key rotated by
 * the actuator is the one they send too.
 */
export function siteClientsFromConfig(
  config: LoadedConfig,
  env: NodeJS.ProcessEnv,
  options: { topology?: Topology; urlOf?: (site: string) => string | undefined } = {},
): SiteClients {
  const actuator = parseSection(actuatorConfigSchema, sectionOf(config.source, 'actuator'), 'actuator');
  return createSiteClients({
    topology: options.topology ?? new Topology(config.root),
    env,
    keyStore: actuator.router_keys.store,
    commitTimeoutMs: actuator.commit_timeout_ms,
    ...(options.urlOf ? { urlOf: options.urlOf } : {}),
  });
}
