/**
 * `pathpilot overlay gen`, then `overlay apply` and `overlay rotate` against seven emulated VyOS routers
 * over HTTP, named as the sites of a pathpilot.yaml (the reference overlay with its nodes renamed a…h).
 * Apply generates every key on its router and writes the public keys back; every tunnel comes up;
 * rotate re-keys one interface make-before-break and records the new key; a node that is not a site is
 * refused before any router is touched.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput } from '../../../cli/testing.ts';
import { overlayPlan, referenceNodesText, referenceTopologyText, tunnelsOf } from '../../../actuator/tunnels/overlay-testing.ts';
import { run } from '../../../cli/commands/overlay.ts';
import { createVyosLab } from '../../../lab/vyos/lab.ts';
import type { EmulatedRouter } from '../../../lab/vyos/router.ts';
import type { VyosLab } from '../../../lab/vyos/types.ts';
import { peerStatus } from '../../../lab/vyos/wireguard-tunnels.ts';

/** The reference overlay with its nodes named as sites (lowercase). */
const lower = (text: string) => text.replace(/"([A-H])"/g, (_, c: string) => `"${c.toLowerCase()}"`);
const nodesText = lower(referenceNodesText);
const topologyText = lower(referenceTopologyText);
const plan = overlayPlan(nodesText, topologyText);
const names = plan.nodes.map((n) => n.node.name);
const KEY_ENV = 'PATHPILOT_OVERLAY_TEST_KEY';
let lab: VyosLab;
let dir: string;
let config: string;

beforeAll(async () => {
  lab = await createVyosLab({ routers: names.map((name) => ({ name, version: '1.5' as const, apiKey: 'overlay-key' })) });
  process.env[KEY_ENV] = 'overlay-key';
  // Each router answers `show interfaces wireguard wgN summary` from the tunnels the lab sees.
  for (const n of names) router(n).setWireguardStatus((iface) => peerStatus(tunnelsOf(plan, names.map(router)), n, iface));
  const work = mkdtempSync(join(tmpdir(), 'overlay-cli-'));
  dir = join(work, 'out');
  writeFileSync(join(work, 'nodes.json'), nodesText);
  writeFileSync(join(work, 'topology.json'), topologyText);
  const site = (n: string, i: number) =>
    `  - { id: ${n}, name: ${n}, provider: onprem, region: eu-central, prefixes: [10.${200 + i}.0.0/16], router: { vyos_version: "1.5", api_key_env: ${KEY_ENV}, api_url: "${lab.urls[n]}" } }`;
  config = join(work, 'pathpilot.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'sites:',
      ...names.map(site),
      'links: []',
      'classes:',
      '  - { id: bulk, dscp: [0], priority: 1, slo: { rtt_p95_ms: 600, loss_pct: 5, jitter_ms: 200 } }',
      '',
    ].join('\n'),
  );
  captureOutput();
  expect(await run(['gen', '-n', join(work, 'nodes.json'), '-t', join(work, 'topology.json'), '-o', dir])).toBe(0);
  vi.restoreAllMocks();
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  delete process.env[KEY_ENV];
  await lab?.stop();
});

const router = (n: string) => lab.router(n) as unknown as EmulatedRouter;
const publicKeys = () =>
  JSON.parse(readFileSync(join(dir, 'public-keys.json'), 'utf8')) as Record<string, Record<string, string>>;

describe('pathpilot overlay apply | rotate', () => {
  it('applies the overlay with keys generated on the routers, then rotates one key make-before-break', async () => {
    const before = publicKeys();
    const c = captureOutput();
    expect(await run(['apply', '-d', dir, '-c', config])).toBe(0);
    expect(c.out.join('')).toContain('applied to 7 routers');
    // The routers generated their own keys: the public keys recorded are theirs, not gen's local ones.
    const applied = publicKeys();
    expect(applied['a']!['wg1']).not.toBe(before['a']!['wg1']);
    const up = tunnelsOf(plan, names.map(router));
    expect(up).toHaveLength(15);
    expect(up.filter((t) => !t.up)).toEqual([]);

    expect(await run(['rotate', '-d', dir, '-c', config, '--node', 'a', '--iface', 'wg1'])).toBe(0);
    expect(c.out.join('')).toMatch(/a wg1: rotated; 2 peers hold the new key/);
    const rotated = publicKeys();
    expect(rotated['a']!['wg1']).not.toBe(applied['a']!['wg1']);
    expect(rotated['b']).toEqual(applied['b']);
    expect(tunnelsOf(plan, names.map(router)).filter((t) => !t.up)).toEqual([]);
    const times = JSON.parse(readFileSync(join(dir, 'key-times.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(Date.parse(times['a']!['wg1']!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses an overlay whose nodes are not sites of the configuration, touching no router', async () => {
    const other = mkdtempSync(join(tmpdir(), 'overlay-cli-upper-'));
    captureOutput();
    const work = mkdtempSync(join(tmpdir(), 'overlay-cli-in-'));
    writeFileSync(join(work, 'nodes.json'), referenceNodesText);
    writeFileSync(join(work, 'topology.json'), referenceTopologyText);
    expect(await run(['gen', '-n', join(work, 'nodes.json'), '-t', join(work, 'topology.json'), '-o', other])).toBe(0);
    vi.restoreAllMocks();
    const revisions = names.map((n) => router(n).revision());
    const c = captureOutput();
    expect(await run(['apply', '-d', other, '-c', config])).toBe(1);
    expect(c.err.join('')).toMatch(/overlay nodes (?:[A-H], ){6}[A-H] are not sites of the configuration/);
    expect(names.map((n) => router(n).revision())).toEqual(revisions);
  });
});
