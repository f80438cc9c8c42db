import type { Topology } from '../../core/config/topology.ts';

/**
 * The initial config of a site's router as `set …` lines: interfaces (ethernet, wireguard with
 * keys, vti), static routes to the other sites' prefixes, a load-balancing wan base and the API key.
 */
export function initialRouterConfig(_topology: Topology, _siteId: string, _apiKey = 'pathpilot'): string[] {
  throw new Error('initialRouterConfig: not implemented yet');
}
