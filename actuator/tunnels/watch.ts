/**
 * The tunnel watch: every `tunnels.interval_s` (one probe window) each node of the overlay is asked for
 * `show interfaces wireguard wgN summary`; with the probe loss across each tunnel in that window (when
 * probes run across it) the health goes to `TunnelFailover` (health.ts), and a failover or restore it
 * decides becomes a proposal through intake: a failover is an emergency (the emergency policy applies it
 * unattended), a restore waits for approval or the auto policy like any change. One tunnel proposal is
 * open at a time; a decision made while one is open is proposed when it settles, for the state then.
 *
 * The overlay is what `overlay gen` wrote (`plan.json`, `public-keys.json` in `tunnels.overlay_dir`),
 * read at start; tests hand it in.
 */
import { errorMessage } from '../../core/errors.ts';
import type { ProposalInput } from '../../core/proposal.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import type { Approvals } from '../pipeline/approvals.ts';
import type { Intake } from '../pipeline/intake.ts';
import { trackPeriodic } from '../pipeline/periodic.ts';
import type { ProposalRecord } from '../state.ts';
import { failedOverOnRouters, tunnelFailoverIntents } from './failover.ts';
import { isStale, parseWireguardSummary, TunnelFailover, type PeerHealth } from './health.ts';
import { ipsecPeerUp, parseIpsecSa } from './ipsec-health.ts';
import { recordPeerHealth, rotationsDue } from './metrics.ts';
import { keyId } from './overlay-render.ts';
import type { TunnelView } from './view.ts';
import { rotateInterfaceKey, type RotationResult } from './rotation.ts';
import { readOverlayDir, type OverlayState, type TunnelLoss } from './overlay-state.ts';

/** Where a router's IPsec site-to-site peers are configured. */
const IPSEC_PEERS = ['vpn', 'ipsec', 'site-to-site', 'peer'] as const;

/** Commit-confirm minutes of a rotation's change set (confirmed as soon as every handshake is verified). */
const ROTATION_CONFIRM_MINUTES = 2;
/** How long a key whose rotation was refused or rolled back waits before the next attempt. */
const ROTATION_RETRY_MS = 3_600_000;

const settled = new Set(['confirmed', 'rolled-back', 'failed', 'rejected', 'expired']);
/** Waiting for a decision: a newer state may replace it. */
const UNDECIDED = new Set(['proposed', 'awaiting-approval']);
/** Tunnel proposals are told apart from the self-heal's by their id. */
const ID_PREFIX = 'tunnel-';

export class TunnelWatch {
  private loop: Promise<void> | undefined;
  private overlay: OverlayState | undefined;
  private failover: TunnelFailover | undefined;
  /** Keys not to retry before this time (`node/wgN` → ms): their last rotation was refused or rolled back. */
  private readonly rotationHold = new Map<string, number>();
  /** The primaries failed over on the routers: the down set of the last confirmed tunnel proposal. */
  private applied = new Set<string>();
  /** The down set each of this watch's open tunnel proposals would apply, by id. */
  private readonly proposed = new Map<string, string[]>();
  /** No tunnel proposal before this (one was rolled back or failed: the same change would fail again now). */
  private holdUntil = 0;
  /** When each overlay key was generated (`node/wgN` → ms), as the overlay state and rotations say. */
  private readonly keyTimes = new Map<string, number>();
  /** What the last check read: each node's peers (the console's view). */
  private lastHealth: { at: number; health: ReadonlyMap<string, readonly PeerHealth[]> } | undefined;
  private lastIpsec = new Map<string, Map<string, boolean>>();
  /** The IPsec peers each router's gauge holds now. */
  private readonly ipsecReported = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: PipelineContext,
    private readonly intake: Intake,
    private readonly approvals: Approvals,
  ) {}

  /** The overlay watched: handed in (tests) or read from `tunnels.overlay_dir`; undefined when neither. */
  private async load(): Promise<OverlayState | undefined> {
    const { d } = this.ctx;
    if (d.overlay) return d.overlay;
    const dir = d.config.tunnels.overlay_dir;
    return dir ? readOverlayDir(dir) : undefined;
  }

  /** Routers with IPsec links in the topology: their SAs are checked on every pass. */
  private ipsecRouters(): string[] {
    const { topology } = this.ctx.d;
    const out = new Set<string>();
    for (const l of topology.config.links) if (l.kind === 'ipsec') out.add(l.a.site).add(l.b.site);
    return [...out].sort();
  }

  async start(): Promise<void> {
    const { d } = this.ctx;
    const t = d.config.tunnels;
    this.overlay = await this.load();
    const watchIpsec = this.ipsecRouters().length > 0;
    if (!this.overlay) {
      if (watchIpsec && t.interval_s > 0) this.loop = this.every(t.interval_s * 1000);
      return;
    }
    for (const pn of this.overlay.plan.nodes) {
      if ((pn.node.platform ?? 'vyos') !== 'vyos') continue;
      // Every VyOS node needs a router the actuator reaches (a site of the topology in the roles).
      try {
        d.routerFor(pn.node.name);
      } catch (err) {
        throw new Error(`overlay node ${pn.node.name}: no router API for it (${errorMessage(err)})`);
      }
      this.ctx.overlayRouters.add(pn.node.name);
      // A key whose generation time is unknown counts from when pathpilot first watches it.
      for (const i of pn.interfaces) {
        const id = keyId(pn.node.name, i.name);
        this.keyTimes.set(id, this.overlay.keyTimes?.get(id) ?? d.clock.now());
      }
    }
    // A failover made before a restart is still on the routers: start from it, so it is restored later.
    this.applied = await failedOverOnRouters(this.overlay.plan, async (node, iface) => {
      try {
        return (await d.routerFor(node).showConfig(['interfaces', 'wireguard', iface, 'peer'])) as Record<
          string,
          { 'allowed-ips'?: string | string[] }
        >;
      } catch {
        return undefined;
      }
    });
    this.failover = new TunnelFailover(this.overlay.plan, this.overlay.publicKeyOf, {
      staleAfterS: t.stale_after_s,
      restoreChecks: t.restore_checks,
      down: this.applied,
    });
    if (t.interval_s > 0) this.loop = this.every(t.interval_s * 1000);
  }

  async stop(): Promise<void> {
    await this.loop;
  }

  private every(ms: number): Promise<void> {
    return trackPeriodic(this.ctx, 'tunnel-watch', ms, { errorType: 'tunnel_watch', message: 'tunnel check failed' }, () =>
      this.check(ms),
    );
  }

  /** Each node's peers as its router reports them, with probe loss; a node that cannot be read is left out. */
  /**
   * Where a tunnel's probe loss comes from: the handed-in source (tests, a lab), else the probes of the
   * paths `tunnels.probe_paths` maps peerings to (`node>peer` → path id), one store query per check.
   */
  private async lossSource(windowMs: number): Promise<TunnelLoss | undefined> {
    const { d } = this.ctx;
    if (d.tunnelLoss) return d.tunnelLoss;
    const paths = d.config.tunnels.probe_paths;
    if (Object.keys(paths).length === 0 || !d.guardData?.qualityByPath) return undefined;
    const now = d.clock.now();
    const quality = await d.guardData.qualityByPath({ from: now - windowMs, to: now });
    return async (node, peer) => {
      const path = paths[`${node}>${peer}`];
      return path === undefined ? undefined : quality.get(`${path}|*`)?.loss_ratio;
    };
  }

  private async health(overlay: OverlayState, windowMs: number): Promise<Map<string, PeerHealth[]>> {
    const { d } = this.ctx;
    const out = new Map<string, PeerHealth[]>();
    const lossOf = await this.lossSource(windowMs).catch((err: unknown) => {
      d.log?.warn({ err: errorMessage(err) }, 'cannot read the probes across tunnels: handshakes only this check');
      return undefined;
    });
    await Promise.all(
      overlay.plan.nodes.map(async (pn) => {
        if ((pn.node.platform ?? 'vyos') !== 'vyos') return;
        const peers: PeerHealth[] = [];
        try {
          for (const iface of pn.interfaces) {
            const text = await d.routerFor(pn.node.name).show(['interfaces', 'wireguard', iface.name, 'summary']);
            const seen = parseWireguardSummary(text);
            for (const p of seen) {
              const loss = await lossOf?.(pn.node.name, p.peer, windowMs);
              if (loss !== undefined) p.loss = loss;
            }
            recordPeerHealth(d.metrics.tunnels, pn.node.name, iface.name, seen);
            peers.push(...seen);
          }
          out.set(pn.node.name, peers);
        } catch (err) {
          // Unknown is not down: a node whose API does not answer says nothing about its tunnels.
          d.metrics.errors.inc({ error_type: 'tunnel_watch' });
          d.log?.warn({ err: errorMessage(err), node: pn.node.name }, 'cannot read the WireGuard summary');
        }
      }),
    );
    return out;
  }

  /**
   * One check (one probe window of `windowMs`): reads every node, updates the failover state and proposes
   * the change it calls for when no tunnel proposal is open. The proposal's record, when one was made.
   */
  async check(windowMs = this.ctx.d.config.tunnels.interval_s * 1000): Promise<ProposalRecord | undefined> {
    this.lastIpsec = await this.checkIpsec();
    const { overlay, failover } = this;
    if (!overlay || !failover) return undefined;
    const { d } = this.ctx;
    const health = await this.health(overlay, windowMs);
    this.lastHealth = { at: d.clock.now(), health };
    // The hysteresis decides the failover state; propose() brings the routers to it.
    failover.observe(health);
    for (const pn of overlay.plan.nodes)
      for (const i of pn.interfaces)
        for (const p of i.peers)
          if (p.path === 'primary')
            d.metrics.tunnels.failedOver.set({ primary: p.node }, failover.failedOver.has(p.node) ? 1 : 0);
    return this.propose(overlay, failover);
  }

  /**
   * Brings the routers to the failover state the health calls for: a proposal when it differs from what
   * the last confirmed tunnel proposal applied — an emergency when a primary newly went down, else a
   * restore. An undecided proposal for another state is rejected (a failover never waits behind a restore
   * nobody approved); one in rollout is waited for; after one rolled back or failed, the same cool-down as
   * the self-heal's. On a calm overlay (nothing failed over or open) a due key is rotated instead.
   */
  private async propose(overlay: OverlayState, failover: TunnelFailover): Promise<ProposalRecord | undefined> {
    const { d } = this.ctx;
    const mine = (await d.state.list())
      .filter((r) => r.proposal.id.startsWith(ID_PREFIX))
      .sort((a, b) => a.updatedAt - b.updatedAt);
    for (const r of mine) {
      const down = this.proposed.get(r.proposal.id);
      if (!down || !settled.has(r.proposal.status)) continue;
      if (r.proposal.status === 'confirmed') this.applied = new Set(down);
      else if (r.proposal.status === 'rolled-back' || r.proposal.status === 'failed')
        this.holdUntil = Math.max(this.holdUntil, r.updatedAt + d.actuation.cooldown_after_rollback_s * 1000);
      this.proposed.delete(r.proposal.id);
    }
    const desired = [...failover.failedOver].sort();
    const key = desired.join();
    const open = mine.filter((r) => !settled.has(r.proposal.status));
    if (open.some((r) => !UNDECIDED.has(r.proposal.status))) return undefined;
    for (const r of open) {
      if (this.proposed.get(r.proposal.id)?.join() === key) return undefined;
      await this.approvals.reject(r.proposal.id, 'tunnel-watch', 'superseded: the tunnels changed again before a decision');
      this.proposed.delete(r.proposal.id);
    }
    if (key === [...this.applied].sort().join()) {
      // Keys are rotated only on a calm overlay: nothing failed over, no tunnel change open.
      if (desired.length === 0 && open.length === 0) await this.rotateDue(overlay);
      return undefined;
    }
    if (d.clock.now() < this.holdUntil) return undefined;
    const kind = desired.some((x) => !this.applied.has(x)) ? 'failover' : 'restore';
    const input = this.proposal(overlay, failover, kind);
    const record = await this.intake.submit(input, 'tunnel-watch');
    this.proposed.set(input.id, desired);
    return record;
  }

  /** The key ages (metrics) and, when one is past `rotate_every_h`, its rotation (the oldest, one per check). */
  private async rotateDue(overlay: OverlayState): Promise<RotationResult | undefined> {
    const { d } = this.ctx;
    const now = d.clock.now();
    for (const [id, at] of this.keyTimes) {
      const [node, iface] = id.split('/') as [string, string];
      d.metrics.tunnels.keyAge.set({ node, iface }, Math.max(0, (now - at) / 1000));
    }
    const everyH = d.config.tunnels.rotate_every_h;
    if (everyH <= 0) return undefined;
    // A key whose last attempt was refused or rolled back waits ROTATION_RETRY_MS: the others go on.
    const id = rotationsDue(this.keyTimes, now, everyH * 3_600_000).find((k) => (this.rotationHold.get(k) ?? 0) <= now);
    if (!id) return undefined;
    const [node, iface] = id.split('/') as [string, string];
    const result = await rotateInterfaceKey(
      {
        plan: overlay.plan,
        routerFor: d.routerFor,
        publicKeyOf: overlay.publicKeyOf,
        savePublicKey: async (n, i, key) => {
          const at = d.clock.now();
          this.keyTimes.set(keyId(n, i), at);
          await overlay.saveKey?.(n, i, key, at);
        },
        confirmMinutes: ROTATION_CONFIRM_MINUTES,
        // Not cut short by stop(): an interrupted verification would leave half a rotation behind.
        wait: (ms) => d.clock.sleep(ms),
        now: () => d.clock.now(),
      },
      node,
      iface,
    );
    d.metrics.tunnels.rotations.inc({ outcome: result.outcome });
    if (result.outcome === 'rotated') this.rotationHold.delete(id);
    else this.rotationHold.set(id, d.clock.now() + ROTATION_RETRY_MS);
    if (result.outcome === 'rotated') d.log?.info({ node, iface, peers: result.peers }, 'WireGuard key rotated');
    else d.log?.warn({ node, iface, outcome: result.outcome, reason: result.reason }, 'WireGuard key rotation did not happen');
    return result;
  }

  /**
   * The tunnels as the last check saw them, for the console: every overlay peering from each end (its
   * path, whether it is up, its last handshake, the key's age and next rotation, failed over or not) and
   * every IPsec peer's SA.
   */
  /** When each overlay key was generated (`node/wgN` → ms): the compliance pack's key-age rule reads it. */
  keyTimesNow(): ReadonlyMap<string, number> {
    return this.keyTimes;
  }

  view(): TunnelView {
    const { d } = this.ctx;
    const now = d.clock.now();
    const everyMs = d.config.tunnels.rotate_every_h * 3_600_000;
    const wireguard: TunnelView['wireguard'] = [];
    for (const pn of this.overlay?.plan.nodes ?? [])
      for (const i of pn.interfaces)
        for (const p of i.peers) {
          const seen = this.lastHealth?.health.get(pn.node.name)?.find((h) => h.peer === p.node);
          const keyAt = this.keyTimes.get(keyId(pn.node.name, i.name));
          wireguard.push({
            node: pn.node.name,
            iface: i.name,
            peer: p.node,
            path: p.path,
            up: seen ? !isStale(seen, d.config.tunnels.stale_after_s) : null,
            handshake_age_s: seen?.handshakeAgeS ?? null,
            key_age_s: keyAt === undefined ? null : Math.max(0, Math.round((now - keyAt) / 1000)),
            next_rotation_at: keyAt === undefined || everyMs <= 0 ? null : keyAt + everyMs,
            failed_over: this.failover?.failedOver.has(p.node) ?? false,
          });
        }
    const ipsec: TunnelView['ipsec'] = [];
    for (const [node, peers] of this.lastIpsec) for (const [peer, up] of peers) ipsec.push({ node, peer, up });
    return { checked_at: this.lastHealth?.at ?? null, wireguard, ipsec };
  }

  /**
   * The SA of every IPsec site-to-site peer configured on the topology's IPsec routers: 1 while `show vpn
   * ipsec sa` lists it up, 0 when it has none. A router that cannot be read keeps its last values.
   */
  async checkIpsec(): Promise<Map<string, Map<string, boolean>>> {
    const { d } = this.ctx;
    const out = new Map<string, Map<string, boolean>>();
    await Promise.all(
      this.ipsecRouters().map(async (site) => {
        try {
          const api = d.routerFor(site);
          const peers = await api.showConfig([...IPSEC_PEERS]).catch(() => null);
          if (!peers || typeof peers !== 'object') return;
          const rows = parseIpsecSa(await api.show(['vpn', 'ipsec', 'sa']));
          // A disabled peer has no SA by intent: neither up nor an alert.
          const active = Object.entries(peers as Record<string, unknown>)
            .filter(([, cfg]) => !(cfg && typeof cfg === 'object' && 'disable' in cfg))
            .map(([peer]) => peer);
          const up = new Map(active.map((peer) => [peer, ipsecPeerUp(rows, peer)]));
          for (const [peer, ok] of up) d.metrics.tunnels.ipsecSaUp.set({ node: site, peer }, ok ? 1 : 0);
          // A peer removed (or disabled) since the last check leaves the gauge, or its alert would fire forever.
          for (const peer of this.ipsecReported.get(site) ?? [])
            if (!up.has(peer)) d.metrics.tunnels.ipsecSaUp.remove({ node: site, peer });
          this.ipsecReported.set(site, new Set(up.keys()));
          out.set(site, up);
        } catch (err) {
          d.metrics.errors.inc({ error_type: 'tunnel_watch' });
          d.log?.warn({ err: errorMessage(err), router: site }, 'cannot read the IPsec SAs');
        }
      }),
    );
    return out;
  }

  private proposal(overlay: OverlayState, failover: TunnelFailover, kind: 'failover' | 'restore'): ProposalInput {
    const now = this.ctx.d.clock.now();
    const down = [...failover.failedOver].sort();
    const intents = tunnelFailoverIntents(overlay.plan, failover.failedOver, overlay.publicKeyOf, true);
    const staleS = this.ctx.d.config.tunnels.stale_after_s;
    return {
      id: `${ID_PREFIX}${kind}-${down.join('-') || 'planned'}-${Math.floor(now / 1000)}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
      created_at: now,
      kind: 'failover',
      reason:
        kind === 'failover'
          ? `tunnels to ${down.join(', ')} are down (no handshake for ${staleS} s or half the probes lost, on every node using them): their prefixes move to the backup tunnels`
          : `tunnels back up: ${down.length ? `only ${down.join(', ')} stay failed over` : 'every prefix returns to its primary tunnel'}`,
      inputs: { model_versions: {}, horizon_min: 0, data_from: now - this.ctx.d.config.tunnels.interval_s * 1000, data_to: now },
      intents,
      predicted: { cost_per_day: 0, rtt_p95_ms: {}, max_utilization: 0, slo_risk: kind === 'failover' ? 0.5 : 0.1 },
      risk: kind === 'failover' ? 'medium' : 'low',
      emergency: kind === 'failover',
    };
  }
}
