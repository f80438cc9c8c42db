/**
 * For discovery's unit tests: the example topology's routers as the lab seeds them, read in process
 * (an emulated router behind a `RouterApi` without HTTP), and a config JSON built from `set` lines.
 * Nothing in the product imports this file.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock } from '../../core/clock.ts';
import { exampleConfigPath, loadConfig } from '../../core/config/load.ts';
import type { RootConfig } from '../../core/config/schema.ts';
import { Topology } from '../../core/config/topology.ts';
import { initialRouterConfig } from '../../lab/vyos/seed.ts';
import { EmulatedRouter } from '../../lab/vyos/router.ts';
import type { ConfigJson, RouterApi } from '../vyos/types.ts';
import { readRouters } from './routers.ts';
import type { RouterFacts } from './router-facts.ts';

export const exampleRoot = (): RootConfig => loadConfig(exampleConfigPath, {}).root;

/** The emulated router of `site`, seeded as the lab seeds it, plus `extra` set/delete lines. */
export function emulatedRouter(root: RootConfig, site: string, extra: string[] = []): EmulatedRouter {
  const topology = new Topology(root);
  const router = new EmulatedRouter(
    { name: site, version: topology.site(site).router.vyos_version, apiKey: 'k', seed: initialRouterConfig(topology, site) },
    new RealClock(),
  );
  if (extra.length > 0) router.applyCommands(extra);
  return router;
}

/** The reads discovery makes, answered by an emulated router in process. */
export function inProcessApi(router: EmulatedRouter): RouterApi {
  return {
    url: `http://lab.invalid/${router.name}`,
    version: router.version,
    showConfig: async (path: string[] = []) => router.showConfig(path),
    show: async (path: string[]) => router.show(path),
    info: async () => ({ version: router.image, train: router.version, hostname: router.name }),
  } as unknown as RouterApi;
}

/** Every example site's facts, read through `readRouters`; `extra` adds set/delete lines per site. */
export function exampleRouterFacts(
  root: RootConfig = exampleRoot(),
  extra: Record<string, string[]> = {},
): Promise<RouterFacts[]> {
  return readRouters(root.sites.map((s) => ({ site: s.id, api: inProcessApi(emulatedRouter(root, s.id, extra[s.id])) })));
}

/** What a route-based IPsec peer needs besides its addresses to commit (IKE/ESP groups, a pre-shared key). */
export function ipsecPeerLines(peer: string, local: string, remote: string, vti: string): string[] {
  const p = `set vpn ipsec site-to-site peer ${peer}`;
  return [
    "set vpn ipsec ike-group IKE proposal 1 encryption 'aes256'",
    "set vpn ipsec ike-group IKE proposal 1 hash 'sha256'",
    "set vpn ipsec esp-group ESP proposal 1 encryption 'aes256'",
    "set vpn ipsec esp-group ESP proposal 1 hash 'sha256'",
    `${p} authentication mode 'pre-shared-secret'`,
    `${p} ike-group 'IKE'`,
    `${p} local-address '${local}'`,
    `${p} remote-address '${remote}'`,
    `${p} vti bind '${vti}'`,
    `${p} vti esp-group 'ESP'`,
  ];
}

/** A showConfig tree from `set` lines, checked by the emulator's schema and commit checks (1.4). */
export function configJson(lines: string[]): ConfigJson {
  const router = new EmulatedRouter({ name: 'r', version: '1.4', apiKey: 'k', seed: lines }, new RealClock());
  return router.showConfig([]);
}

/** The sample cloud exports (test/fixtures/discover/<provider>). */
export const fixtureDir = (provider: string): string => join('test', 'fixtures', 'discover', provider);

/**
 * A copy of a provider's sample exports in a temporary folder with one file's text replaced (`from` must
 * occur in it): what the malformed-input and changed-inventory tests read.
 */
export function editedFixture(provider: string, file: string, from: string, to: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pp-discover-')), provider);
  cpSync(fixtureDir(provider), dir, { recursive: true });
  const text = readFileSync(join(dir, file), 'utf8');
  if (!text.includes(from)) throw new Error(`editedFixture: "${from}" is not in ${file}`);
  writeFileSync(join(dir, file), text.replace(from, to));
  return dir;
}
