/**
 * The console in Debian's Chromium (playwright-core): the page loads with the token from the URL
 * fragment, shows the queue, and clicking Approve changes an emulated VyOS router's running config.
 * Two set-ups: the console over a seeded chDB store with an in-memory actuator that pushes the
 * proposal's weights to the router over its real HTTP API, and the whole demo loop (`startDemo`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { defaultComplianceContext, evaluateCompliance } from '../../../actuator/security/compliance.ts';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { createHttpServer } from '../../../core/http/server.ts';
import { sql, ident } from '../../../core/store/sql.ts';
import { createVyosLabForTopology, type VyosLab } from '../../../lab/vyos/index.ts';
import { createLogger } from '../../../core/log.ts';
import { exampleConfigPath } from '../../../core/config/index.ts';
import { consoleRoutes } from '../../../app/console/routes.ts';
import { startDemo, type DemoRuntime } from '../../../app/demo.ts';
import type { Shared } from '../../../app/runtime.ts';
import { disposeDemo, isolatedDemoEnv } from '../../support/demo.ts';
import { applyOverHttp, fakeActuator, launchChromium, sampleProposal, seededShared, type FakeActuator } from './support.ts';

const lbConfig = (lab: VyosLab, router: string) => JSON.stringify(lab.router(router).showConfig(['load-balancing', 'wan']));

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

describe('console in Chromium: seeded store, emulated routers', () => {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const env = { PATHPILOT_VYOS_KEY: randomBytes(18).toString('base64url') };
  const token = randomBytes(18).toString('base64url');
  const viewerToken = randomBytes(18).toString('base64url');
  let shared: Shared;
  let lab: VyosLab;
  let actuator: FakeActuator;
  let server: ReturnType<typeof createHttpServer>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    shared = await seededShared(now, env);
    lab = await createVyosLabForTopology(shared.topology, { clock: shared.clock, env });
    // An applied proposal whose realized effect the actuator has measured (actuator/realized.ts).
    const applied = sampleProposal(shared.topology, 'p-applied-realized', now - 200 * 60_000, ['onprem-nyc', 'aws-euc1']);
    applied.status = 'confirmed';
    applied.history.push({ status: 'confirmed', at: now - 180 * 60_000 });
    applied.realized = {
      before: { from: now - 250 * 60_000, to: now - 190 * 60_000 },
      after: { from: now - 180 * 60_000, to: now - 120 * 60_000 },
      cost_per_day: 431.4,
      cost_per_day_before: 702,
      gb_per_day: 12_400,
      gb_per_day_before: 12_000,
      slo_pair_class_minutes: 2,
      slo_pair_class_minutes_before: 17,
      measured_at: now - 110 * 60_000,
    };
    // A proposal the actuator assessed high risk: it would cut a live conversation.
    const risky = sampleProposal(shared.topology, 'p-risky-cut', now - 10 * 60_000);
    risky.assessment = {
      level: 'high',
      stated: 'medium',
      approvals_required: 2,
      reasons: ['cuts 1 live conversation(s) (72000000 bytes in 24 h), e.g. 10.51.0.10 → 10.10.0.20 tcp/8080'],
      blast: {
        window_h: 24,
        flows_rerouted: 3,
        bytes_rerouted: 1e6,
        flows_cut: 1,
        bytes_cut: 72e6,
        flows_opened: 0,
        bytes_opened: 0,
      },
      cut: [{ router: 'aws-euc1', flow: '10.51.0.10 → 10.10.0.20 tcp/8080', bytes: 72e6, class: 'bulk' }],
      opened: [],
      compliance: [],
      computed: { flows: true, reachability: true },
      anomalies: [],
      hold: false,
      assessed_at: now - 10 * 60_000,
    };
    actuator = fakeActuator(
      shared.clock,
      [sampleProposal(shared.topology, 'p-cost-aws-euc1-weu', now - 20 * 60_000), applied, risky],
      applyOverHttp(shared.topology, lab, env),
    );
    const auth = TokenAuthenticator.fromSpec(`approver:alice:${token},viewer:vera:${viewerToken}`);
    server = createHttpServer({ registry: shared.registry, auth }, { host: '127.0.0.1', port: 0 }, [
      consoleRoutes({ shared, actuator, lab }),
    ]);
    await server.start();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await lab?.stop();
    if (shared) {
      await shared.store.exec(sql`DROP DATABASE IF EXISTS ${ident(shared.store.database)}`);
      await shared.store.stop();
    }
  });

  it('approving a proposal in the page changes the router’s load-balancing config', async () => {
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(`${server.url()}/#token=${token}`);
    // The token leaves the address bar and stays in the tab's sessionStorage.
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate("sessionStorage.getItem('pathpilot.token')")).toBe(token);
    await expect.poll(() => page.textContent('#who')).toContain('alice · approver');

    // Everything the issue lists is on the page, from the seeded data.
    expect(await page.locator('#topo-svg g[data-site]').count()).toBe(shared.config.root.sites.length);
    expect(await page.locator('#topo-svg g[data-link]').count()).toBe(shared.config.root.links.length);
    expect(await page.locator('#q-svg polyline').count()).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.locator('#budget-bars .budget').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.textContent('#worst-paths')).toContain('aws-euc1.azure-weu.1');

    const row = page.locator('[data-proposal-id="p-cost-aws-euc1-weu"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getAttribute('data-status')).toBe('awaiting-approval');
    // Cost figures say what they are: the network's predicted cost per day (with the figure before), and
    // billed month-to-date spend on the budget card.
    expect(await row.locator('.effects').textContent()).toMatch(/network cost\/day \$412 \(was \$698, -41%\)/);
    expect(await page.textContent('#budget-bars')).toMatch(/billed \$[\d,.]+ of \$[\d,.]+ this month/);
    // The page says what happens to a proposal: the mode, and the emergency policy the config names.
    const { mode, emergency_auto } = shared.config.root.actuator;
    const policy = page.locator('#proposal-list .policy');
    expect(await policy.getAttribute('data-policy')).toBe(mode);
    expect(await policy.textContent()).toContain(`actuator.emergency_auto: ${emergency_auto}`);
    // Once applied and measured, the card shows what came true beside the promise; not before.
    expect(await row.locator('[data-realized]').count()).toBe(0);
    const realized = page.locator('[data-proposal-id="p-applied-realized"] .effects');
    expect(await realized.textContent()).toMatch(/network cost\/day \$412 \(was \$698, -41%\)/);
    expect(await realized.locator('[data-realized=cost]').textContent()).toBe('realized cost/day $431 (predicted $412)');
    expect(await realized.locator('[data-realized=slo]').textContent()).toBe('SLO pair-class minutes 17 → 2');
    expect(await realized.locator('[data-realized=traffic]').textContent()).toBe('traffic GB/day 12000 → 12400 (+3%)');
    await page.screenshot({ path: '/tmp/console.png', fullPage: true });

    const before = lbConfig(lab, 'aws-euc1');
    const revision = lab.router('aws-euc1').revision();
    await row.locator('button[data-action=approve]').click();

    await waitFor('the router to commit the new weights', () => lab.router('aws-euc1').revision() > revision, 15_000);
    expect(lbConfig(lab, 'aws-euc1')).not.toBe(before);
    const commands = lab.router('aws-euc1').runningCommands(['load-balancing', 'wan']);
    expect(commands.some((c) => /interface eth1 weight '3'/.test(c))).toBe(true);
    expect(actuator.decisions).toEqual([{ id: 'p-cost-aws-euc1-weu', action: 'approve', actor: 'alice' }]);

    // The page follows: the row leaves the queue's actionable state and the timeline shows the change.
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('baking');
    expect(await row.locator('button[data-action=approve]').count()).toBe(0);
    await expect.poll(() => page.locator('#tl-table tr[data-event=applied]').count(), { timeout: 15_000 }).toBe(1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: '/tmp/console-after.png', fullPage: true });
    await page.close();
  });

  it('a viewer sees the queue but no decision buttons; a bad token brings up the sign-in dialog', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url()}/#token=${viewerToken}`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    await page.locator('[data-proposal-id]').first().waitFor();
    expect(await page.locator('button[data-action=approve]').count()).toBe(0);
    // The assessed level on the card, the approvers it needs and why.
    const risky = page.locator('[data-proposal-id=p-risky-cut]');
    expect(await risky.locator('.assessment[data-assessed=high]').textContent()).toContain('needs 2 approvers');
    expect(await risky.locator('.assessment').textContent()).toContain('cuts 1 live conversation');
    // No tunnel watch in this process: the panel says so. With one, every peering and SA is a row.
    await expect.poll(() => page.textContent('#tunnel-note')).toContain('another process');
    actuator.tunnels = () => ({
      checked_at: now - 30_000,
      wireguard: [
        {
          node: 'A',
          iface: 'wg1',
          peer: 'D',
          path: 'primary',
          up: false,
          handshake_age_s: 212,
          key_age_s: 7200,
          next_rotation_at: now + 70 * 3_600_000,
          failed_over: true,
        },
        {
          node: 'A',
          iface: 'wg1',
          peer: 'H',
          path: 'backup',
          up: true,
          handshake_age_s: 41,
          key_age_s: 7200,
          next_rotation_at: now + 70 * 3_600_000,
          failed_over: false,
        },
      ],
      ipsec: [{ node: 'onprem-nyc', peer: 'to-aws-use1', up: true }],
    });
    try {
      await expect.poll(() => page.locator('#tunnel-body tr').count(), { timeout: 15_000 }).toBe(3);
      expect(await page.locator('#tunnel-body tr[data-state=down]').count()).toBe(1);
      expect(await page.textContent('#tunnel-body tr[data-state=down]')).toContain('failed over');
      expect(await page.textContent('#tunnel-note')).toContain('3 tunnel ends, 1 down');
    } finally {
      delete actuator.tunnels;
    }
    // Compliance: each router's score and its failing rules, high severity marked.
    await expect.poll(() => page.textContent('#compliance-note')).toContain('another process');
    const ctx = defaultComplianceContext(now);
    actuator.compliance = () => ({
      checked_at: now - 60_000,
      routers: [
        evaluateCompliance(
          'onprem-nyc',
          { firewall: { ipv4: { forward: { filter: { rule: { '5': { action: 'accept' } } } } } } },
          ctx,
        ),
        { router: 'aws-use1', score: null, results: [], error: 'could not read the running config: connect ECONNREFUSED' },
      ],
    });
    try {
      await expect.poll(() => page.locator('#compliance-body tr').count(), { timeout: 15_000 }).toBe(2);
      const nyc = page.locator('#compliance-body tr[data-router=onprem-nyc]');
      expect(await nyc.locator('span.pill.bad[data-rule=PP-FW-1]').count()).toBe(1);
      expect(await nyc.locator('span[data-rule=PP-FW-1]').getAttribute('title')).toContain('PCI DSS 1.2.1, 1.3.1');
      expect(await page.textContent('#compliance-body tr[data-router=aws-use1]')).toContain('ECONNREFUSED');
    } finally {
      delete actuator.compliance;
    }
    await page.close();

    const other = await browser.context.newPage();
    await other.goto(`${server.url()}/#token=not-a-real-token-123456`);
    await other.waitForSelector('dialog#login[open]', { timeout: 15_000 });
    expect(await other.textContent('#login-error')).toContain('not accepted');
    await other.fill('#login-token', viewerToken);
    await other.click('#login-form button[type=submit]');
    await other.waitForSelector('body[data-ready=true]', { timeout: 15_000 });
    await expect.poll(() => other.textContent('#who')).toContain('vera · viewer');
    await other.close();
  });
});

describe('console in Chromium: the whole demo loop', () => {
  let demo: DemoRuntime;
  let configFile = '';
  let consoleUrl = '';
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    delete process.env.PATHPILOT_API_TOKENS;
    // At 600× a one-hour proposal TTL is 6 s of wall time (and the first training alone takes minutes
    // of wall time on two cores): give proposals a week so one is still open when the page shows it.
    const dir = mkdtempSync(join(tmpdir(), 'pp-console-demo-'));
    configFile = join(dir, 'pathpilot.yaml');
    const example = readFileSync(exampleConfigPath, 'utf8');
    if (!/proposal_ttl_s: \d+/.test(example)) throw new Error('example config has no actuator.proposal_ttl_s');
    writeFileSync(configFile, example.replace(/proposal_ttl_s: \d+/, 'proposal_ttl_s: 604800'));
    demo = await startDemo({
      configFile,
      scenario: 'cost-pressure',
      auto: false,
      speedup: 600,
      apiPort: 0,
      log: createLogger({ level: 'silent' }),
      // Its own topics, database, queues and state: the services are shared with other suites and runs.
      env: isolatedDemoEnv('console_demo'),
      onReady: (info) => (consoleUrl = info.consoleUrl),
    });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await disposeDemo(demo);
    if (configFile) rmSync(dirname(configFile), { recursive: true, force: true });
  });

  it('a proposal from the optimizer appears in the page; Approve changes the emulated router', async () => {
    expect(consoleUrl).toMatch(/#token=/);
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(consoleUrl);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    const row = page.locator('article.proposal.actionable').first();
    await row.waitFor({ timeout: 270_000 });
    const id = await row.getAttribute('data-proposal-id');
    expect(id).toBeTruthy();
    const proposal = (await demo.actuator.list()).find((p) => p.id === id)!;
    const routers = [...new Set(proposal.intents.map((i) => i.router))];
    const before = new Map(routers.map((r) => [r, demo.lab.router(r).runningCommands()]));
    await page.screenshot({ path: '/tmp/console-demo.png', fullPage: true });

    await row.locator('button[data-action=approve]').click();
    await waitFor(
      'an emulated router to change after Approve',
      () => routers.some((r) => JSON.stringify(demo.lab.router(r).runningCommands()) !== JSON.stringify(before.get(r))),
      // The apply goes through the queue and the demo's lockstep clock: ~10 s here, but over 60 s once
      // on a host at load 7–14 (a fresh-clone CI run beside two heavy benchmarks).
      180_000,
    );
    const after = (await demo.actuator.list()).find((p) => p.id === id)!;
    expect(after.history.some((h) => h.status === 'approved')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 520_000);
});
