/**
 * The router key watch: every `router_keys.check_interval_s` each site router's API key age goes to the
 * metrics, and the oldest key past `rotate_every_h` (one per check) is rotated (router-keys.ts). A
 * rotation restarts the router's API server, so it waits while any rollout is on its way (a commit in
 * the restart would fail), and a rotation that did not happen is retried an hour later, not at once.
 */
import { errorMessage } from '../../core/errors.ts';
import { WatchLoop } from '../pipeline/periodic.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { rotateRouterApiKey, type KeyRotationResult, type RouterKeyring } from './router-keys.ts';

/** The statuses in which a rollout may commit to a router. */
const ROLLING = new Set(['approved', 'applying', 'baking']);
/** How long a router whose rotation did not happen waits before the next attempt. */
const RETRY_MS = 3_600_000;

export interface RouterKeyView {
  router: string;
  /** The key's id on the router (null: the environment's key, never rotated by pathpilot). */
  id: string | null;
  /** Age in seconds (null: unknown). */
  age_s: number | null;
  /** Earlier ids whose removal is not verified. */
  retired: string[];
  last?: { at: number; outcome: KeyRotationResult['outcome']; reason?: string };
}

export class RouterKeyWatch {
  private readonly periodic: WatchLoop;
  private readonly hold = new Map<string, number>();
  private readonly last = new Map<string, { at: number; outcome: KeyRotationResult['outcome']; reason?: string }>();
  /** One rotation at a time, whether the schedule or the API asked for it. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: PipelineContext,
    private readonly keyring: RouterKeyring | undefined,
  ) {
    this.periodic = new WatchLoop(this.ctx, 'router-key-watch', {
      errorType: 'router_key_rotation',
      message: 'router key check failed',
    });
  }

  start(): void {
    const c = this.ctx.d.config.router_keys;
    if (!this.keyring || c.rotate_every_h <= 0) return;
    this.periodic.start(c.check_interval_s, () => this.check(), { now: false });
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
    // Not cut short: an interrupted rotation would leave a key added and not yet stored.
    await this.running;
  }

  /** Ages on the metrics, then the oldest due key's rotation (if none is rolling out). */
  async check(): Promise<KeyRotationResult | undefined> {
    const { d } = this.ctx;
    if (!this.keyring) return undefined;
    const now = d.clock.now();
    const sites = [...d.topology.sites.keys()].sort();
    for (const site of sites) {
      const k = this.keyring.store.get(site);
      if (k) d.metrics.routerKeys.age.set({ router: site }, Math.max(0, (now - k.created_at) / 1000));
    }
    const everyMs = d.config.router_keys.rotate_every_h * 3_600_000;
    if (everyMs <= 0) return undefined;
    const due = sites
      .map((site) => ({ site, k: this.keyring!.store.get(site) }))
      // A key the store does not know (the environment's) is due; so is one whose predecessor is still there.
      .filter(({ site, k }) => (this.hold.get(site) ?? 0) <= now && (!k || now - k.created_at >= everyMs || k.retired.length > 0))
      .sort((a, b) => (a.k?.created_at ?? -Infinity) - (b.k?.created_at ?? -Infinity));
    if (due.length === 0) return undefined;
    if (await this.rolling()) return undefined;
    return this.rotate(due[0]!.site);
  }

  /** Rotates `site`'s key now (the API's `rotate`; the schedule calls it too). */
  rotate(site: string): Promise<KeyRotationResult> {
    const keyring = this.keyring;
    if (!keyring) return Promise.reject(new Error('router key rotation needs actuator.router_keys.store'));
    if (!this.ctx.d.topology.sites.has(site)) return Promise.reject(new Error(`unknown site "${site}"`));
    const run = this.running.then(() => this.rotateNow(keyring, site));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async rotateNow(keyring: RouterKeyring, site: string): Promise<KeyRotationResult> {
    const { d } = this.ctx;
    // A router the actuator cannot even build a client for is refused like one that does not answer.
    const result: KeyRotationResult = await Promise.resolve()
      .then(() =>
        rotateRouterApiKey({
          site,
          router: d.routerFor(site),
          currentKey: keyring.current(site),
          retired: keyring.store.get(site)?.retired ?? [],
          probe: (key) => keyring.probe(site, key),
          adopt: async (entry) => {
            await keyring.store.save(site, entry);
            keyring.use(site, entry.key);
          },
          wait: (ms) => d.clock.sleep(ms),
          now: () => d.clock.now(),
        }),
      )
      .catch((err: unknown) => ({ outcome: 'refused' as const, site, reason: errorMessage(err) }));
    const at = d.clock.now();
    d.metrics.routerKeys.rotations.inc({ router: site, outcome: result.outcome });
    this.last.set(site, { at, outcome: result.outcome, ...('reason' in result ? { reason: result.reason } : {}) });
    if (result.outcome === 'rotated') this.hold.delete(site);
    else this.hold.set(site, at + RETRY_MS);
    if ('reason' in result)
      d.log?.warn({ router: site, outcome: result.outcome, reason: result.reason }, 'router API key rotation did not happen');
    else {
      d.metrics.routerKeys.age.set({ router: site }, 0);
      d.log?.info({ router: site, id: result.id, retired: result.retired }, 'router API key rotated');
    }
    return result;
  }

  /** True while a rollout may commit to a router. */
  private async rolling(): Promise<boolean> {
    const records = await this.ctx.records.list();
    return records.some((r) => ROLLING.has(r.proposal.status));
  }

  view(): RouterKeyView[] {
    const now = this.ctx.d.clock.now();
    return [...this.ctx.d.topology.sites.keys()].sort().map((router) => {
      const k = this.keyring?.store.get(router);
      const last = this.last.get(router);
      return {
        router,
        id: k?.id ?? null,
        age_s: k ? Math.max(0, Math.round((now - k.created_at) / 1000)) : null,
        retired: k?.retired ?? [],
        ...(last ? { last } : {}),
      };
    });
  }
}
