/**
 * Test support for the console's browser tests: the fixtures shared with the unit tests live in
 * app/console/testing.ts (re-exported here); this file adds what needs a browser or the emulated
 * routers — an approve hook that pushes path weights over the routers' HTTP API, and Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Topology } from '../../../core/config/topology.ts';
import type { Proposal } from '../../../core/proposal.ts';
import { vyosClientForSite } from '../../../actuator/vyos/index.ts';
import type { VyosLab } from '../../../lab/vyos/index.ts';

export {
  breachingPath,
  fakeActuator,
  sampleProposal,
  seedStore,
  seededShared,
  type FakeActuator,
} from '../../../app/console/testing.ts';

/**
 * Pushes a path-weights proposal to the emulated routers over their HTTP API: the WAN load-balancing
 * rule for each destination prefix gets one interface per weighted first-hop link.
 */
export function applyOverHttp(topology: Topology, lab: VyosLab, env: NodeJS.ProcessEnv) {
  return async (p: Proposal): Promise<void> => {
    for (const it of p.intents) {
      if (it.kind !== 'path-weights') continue;
      const router = lab.router(it.router);
      const client = vyosClientForSite(topology.site(it.router), { url: router.url, env });
      const rules = (await client.showConfig(['load-balancing', 'wan', 'rule'])) ?? {};
      const ops = [];
      for (const [num, rule] of Object.entries(rules)) {
        const dst = typeof rule === 'object' && !Array.isArray(rule) ? rule.destination : undefined;
        const addr = dst && typeof dst === 'object' && !Array.isArray(dst) ? dst.address : undefined;
        if (typeof addr !== 'string' || !it.dst_prefixes.includes(addr)) continue;
        ops.push({ op: 'delete' as const, path: ['load-balancing', 'wan', 'rule', num, 'interface'] });
        for (const [link, w] of Object.entries(it.weights)) {
          const iface = topology.linkEnd(link, it.router)?.interface;
          if (iface)
            ops.push({
              op: 'set' as const,
              path: ['load-balancing', 'wan', 'rule', num, 'interface', iface, 'weight'],
              value: String(w),
            });
        }
      }
      if (ops.length > 0) await client.configure(ops);
    }
  };
}

/**
 * Debian's Chromium through playwright-core (never a downloaded browser), headless, with a fresh
 * profile directory that `close()` removes.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'pp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
