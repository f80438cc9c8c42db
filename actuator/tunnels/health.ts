/**
 * Tunnel health from the routers' own view: `show interfaces wireguard wgN summary` (vyos-1x prints each
 * peer's latest handshake as h:mm:ss ago) and, where probes cross the tunnel, their loss. A peer is down
 * when it never completed a handshake, its last one is older than `staleAfterS` (WireGuard re-handshakes
 * every 2 minutes on a live tunnel and drops keys after 3: default 180 s), or one probe window lost half
 * its probes (a dead tunnel shows there within a window, long before its handshake ages out). The failover decision has hysteresis: a primary goes down as soon as every
 * node that routes through it sees it stale, and comes back only after `restoreChecks` checks in a row in
 * which nobody does — so a flapping relay does not move prefixes back and forth.
 */
import type { WireguardPeersIntent } from '../../core/proposal.ts';
import { tunnelFailoverIntents, type PublicKeyOf } from './failover.ts';
import type { OverlayPlan } from './overlay-plan.ts';

export interface PeerHealth {
  peer: string;
  publicKey?: string;
  /** Seconds since the latest handshake; undefined when there never was one. */
  handshakeAgeS?: number;
  endpoint?: string;
  /** Probe loss over the tunnel in the last probe window (0–1), when probes run across it. */
  loss?: number;
}

/** `1 day, 2:03:04` or `0:01:05` → seconds. */
function seconds(text: string): number | undefined {
  const m = /^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** The peers of one `show interfaces wireguard wgN summary` output. */
export function parseWireguardSummary(text: string): PeerHealth[] {
  const peers: PeerHealth[] = [];
  let cur: PeerHealth | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const [key, ...rest] = line.split(': ');
    const value = rest.join(': ');
    if (key === 'peer') peers.push((cur = { peer: value }));
    else if (!cur) continue;
    else if (key === 'public key') cur.publicKey = value;
    else if (key === 'latest handshake') {
      const s = seconds(value);
      if (s !== undefined) cur.handshakeAgeS = s;
    } else if (key === 'endpoint') cur.endpoint = value;
  }
  return peers;
}

export const DEFAULT_STALE_AFTER_S = 180;

/** Probe loss at or above this in one window counts as down: probes see a dead tunnel before handshakes age. */
export const DOWN_LOSS = 0.5;

export const isStale = (p: PeerHealth, staleAfterS = DEFAULT_STALE_AFTER_S): boolean =>
  p.handshakeAgeS === undefined || p.handshakeAgeS > staleAfterS || (p.loss ?? 0) >= DOWN_LOSS;

export interface TunnelFailoverOptions {
  staleAfterS?: number;
  /** Checks in a row with the primary healthy everywhere before its prefixes move back. */
  restoreChecks?: number;
  /** Primaries already failed over when the watch starts (read from the routers). */
  down?: Iterable<string>;
}

export interface TunnelFailoverChange {
  /** What moved: failover (primaries that went down) or restore (back to the plan). */
  kind: 'failover' | 'restore';
  down: string[];
  intents: WireguardPeersIntent[];
}

/**
 * Watches the overlay's primaries and says when to fail over or restore. `observe` takes, per node, the
 * health of its peers (node → peers, from each node's summaries) and returns the change to make, if any.
 */
export class TunnelFailover {
  private readonly down = new Set<string>();
  private readonly healthyRuns = new Map<string, number>();
  private readonly staleAfterS: number;
  private readonly restoreChecks: number;

  constructor(
    private readonly plan: OverlayPlan,
    private readonly publicKeyOf: PublicKeyOf,
    options: TunnelFailoverOptions = {},
  ) {
    this.staleAfterS = options.staleAfterS ?? DEFAULT_STALE_AFTER_S;
    this.restoreChecks = options.restoreChecks ?? 3;
    for (const p of options.down ?? []) this.down.add(p);
  }

  /** Primaries that carry a prefix some backup holds for failover, with the nodes that route through them. */
  private primaries(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const pn of this.plan.nodes)
      for (const i of pn.interfaces)
        for (const p of i.peers)
          if (p.path === 'primary' && i.peers.some((b) => b.failoverIps.some((ip) => p.allowedIps.includes(ip))))
            out.set(p.node, [...(out.get(p.node) ?? []), pn.node.name]);
    return out;
  }

  /** The primaries in failover now. */
  get failedOver(): ReadonlySet<string> {
    return this.down;
  }

  observe(health: ReadonlyMap<string, readonly PeerHealth[]>): TunnelFailoverChange | undefined {
    const before = [...this.down].sort().join();
    for (const [primary, users] of this.primaries()) {
      const seen = users
        .map((u) => health.get(u)?.find((p) => p.peer === primary))
        .filter((p): p is PeerHealth => p !== undefined);
      const staleEverywhere = seen.length > 0 && seen.every((p) => isStale(p, this.staleAfterS));
      const healthyEverywhere = seen.length > 0 && seen.every((p) => !isStale(p, this.staleAfterS));
      if (staleEverywhere) {
        this.down.add(primary);
        this.healthyRuns.set(primary, 0);
      } else if (this.down.has(primary)) {
        const runs = healthyEverywhere ? (this.healthyRuns.get(primary) ?? 0) + 1 : 0;
        this.healthyRuns.set(primary, runs);
        if (runs >= this.restoreChecks) this.down.delete(primary);
      }
    }
    const after = [...this.down].sort();
    if (after.join() === before) return undefined;
    const grew = after.some((x) => !before.split(',').includes(x));
    return {
      kind: grew ? 'failover' : 'restore',
      down: after,
      intents: tunnelFailoverIntents(this.plan, this.down, this.publicKeyOf, true),
    };
  }
}
