/**
 * Tunnel metrics: what the stale-handshake and overdue-rotation alerts read
 * (dashboards/prometheus/rules/pathpilot.rules.yml), set from each health check and rotation.
 */
import { counter, gauge, type Registry } from '../../core/metrics.ts';
import type { PeerHealth } from './health.ts';

export interface TunnelMetrics {
  handshakeAge: ReturnType<typeof gauge<'node' | 'iface' | 'peer'>>;
  keyAge: ReturnType<typeof gauge<'node' | 'iface'>>;
  failedOver: ReturnType<typeof gauge<'primary'>>;
  ipsecSaUp: ReturnType<typeof gauge<'node' | 'peer'>>;
  rotations: ReturnType<typeof counter<'outcome'>>;
}

export function createTunnelMetrics(registry: Registry): TunnelMetrics {
  const p = 'pathpilot_tunnel';
  return {
    handshakeAge: gauge(
      registry,
      `${p}_handshake_age_seconds`,
      'Seconds since the latest WireGuard handshake of a peer, as its node reports it (+Inf: never)',
      ['node', 'iface', 'peer'],
    ),
    keyAge: gauge(registry, `${p}_key_age_seconds`, "Seconds since an interface's WireGuard key was generated", [
      'node',
      'iface',
    ]),
    failedOver: gauge(registry, `${p}_failed_over`, 'Primary tunnel peer whose failover prefixes are on its backups now (1)', [
      'primary',
    ]),
    ipsecSaUp: gauge(
      registry,
      `${p}_ipsec_sa_up`,
      '1 while an IPsec site-to-site peer has an established CHILD SA (show vpn ipsec sa), 0 when it has none',
      ['node', 'peer'],
    ),
    rotations: counter(
      registry,
      `${p}_key_rotations_total`,
      'Scheduled WireGuard key rotations, by outcome: rotated, refused (a peer unreachable or its tunnel down), rolled-back',
      ['outcome'],
    ),
  };
}

/** One node interface's peers from a health check. */
export function recordPeerHealth(m: TunnelMetrics, node: string, iface: string, peers: readonly PeerHealth[]): void {
  for (const p of peers) m.handshakeAge.set({ node, iface, peer: p.peer }, p.handshakeAgeS ?? Number.POSITIVE_INFINITY);
}

/** Default rotation period (issue 17: every 72 h). */
export const ROTATE_EVERY_MS = 72 * 3_600_000;

/** Interfaces whose key is older than the rotation period, oldest first (`generatedAt`: `node/iface` → ms). */
export function rotationsDue(generatedAt: ReadonlyMap<string, number>, now: number, everyMs = ROTATE_EVERY_MS): string[] {
  return [...generatedAt]
    .filter(([, at]) => now - at >= everyMs)
    .sort((a, b) => a[1] - b[1])
    .map(([k]) => k);
}
