import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../core/metrics.ts';
import { createTunnelMetrics, recordPeerHealth, ROTATE_EVERY_MS, rotationsDue } from './metrics.ts';

describe('tunnel metrics', () => {
  it('exports handshake ages (never: +Inf) and lists keys past the 72 h rotation, oldest first', async () => {
    const registry = createRegistry();
    const m = createTunnelMetrics(registry);
    recordPeerHealth(m, 'A', 'wg1', [{ peer: 'D', handshakeAgeS: 42 }, { peer: 'H' }]);
    const text = await registry.metrics();
    expect(text).toContain('pathpilot_tunnel_handshake_age_seconds{node="A",iface="wg1",peer="D"} 42');
    expect(text).toContain('pathpilot_tunnel_handshake_age_seconds{node="A",iface="wg1",peer="H"} +Inf');
    const now = Date.UTC(2026, 0, 10);
    const due = rotationsDue(
      new Map([
        ['A/wg1', now - ROTATE_EVERY_MS - 5],
        ['D/wg0', now - ROTATE_EVERY_MS + 60_000],
        ['H/wg0', now - 2 * ROTATE_EVERY_MS],
      ]),
      now,
    );
    expect(due).toEqual(['H/wg0', 'A/wg1']);
  });
});
