import { describe, expect, it } from 'vitest';
import type { Intent } from '../../core/proposal.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { defaultComplianceContext } from './compliance.ts';
import { assessRisk, type ForwardVerdict, type LiveFlow } from './risk.ts';

const now = Date.UTC(2026, 11, 6, 12);
const flow = (dst: string, port: number, bytes: number, cls = 'bulk'): LiveFlow => ({
  src_addr: '10.51.0.10',
  dst_addr: dst,
  protocol: 6,
  dst_port: port,
  class: cls,
  dst_site: 'aws-use1',
  bytes,
  flows: 3,
  last_seen: now - 60_000,
});
/** A forward chain that drops a port when the config says `drop-port`. */
const verdict: ForwardVerdict = (config, packet) =>
  String((config as { 'drop-port'?: string })['drop-port']) === String(packet.destinationPort) ? 'drop' : 'accept';
const opts = { verdict, compliance: defaultComplianceContext(now), windowH: 24, now };
const weights: Intent = {
  kind: 'path-weights',
  router: 'r1',
  pair: ['r1', 'aws-use1'],
  class: 'bulk',
  dst_prefixes: ['10.20.0.0/16'],
  weights: { l1: 1 },
};
const rules: Intent = { kind: 'firewall-rules', router: 'r1', first: 10_000, last: 10_999, rules: {} };

describe('pre-change risk', () => {
  it('counts the live conversations a weight change re-routes (its class and prefixes only), keeping the stated level', () => {
    const flows = [flow('10.20.1.1', 443, 100), flow('10.20.2.2', 22, 50, 'realtime'), flow('10.30.0.1', 443, 7)];
    const a = assessRisk('low', [weights], [{ router: 'r1', before: {}, after: {}, flows }], opts);
    expect(a.blast).toMatchObject({ flows_rerouted: 1, bytes_rerouted: 100, flows_cut: 0 });
    expect(a).toMatchObject({ level: 'low', approvals_required: 1 });
    expect(a.reasons).toEqual(['re-routes 1 live conversation(s) (100 bytes in 24 h)']);
    expect(assessRisk('medium', [weights], [{ router: 'r1', before: {}, after: {}, flows }], opts).level).toBe('medium');
    // A proposal stated high keeps its level but needs one approver: nothing found makes it worse.
    expect(assessRisk('high', [weights], [{ router: 'r1', before: {}, after: {}, flows }], opts)).toMatchObject({
      level: 'high',
      approvals_required: 1,
    });
  });

  it('a firewall change that cuts a live conversation is high; the largest cut first', () => {
    const flows = [flow('10.20.1.1', 8080, 10), flow('10.20.1.2', 8080, 500), flow('10.20.1.1', 443, 9)];
    const a = assessRisk('low', [rules], [{ router: 'r1', before: {}, after: { 'drop-port': '8080' }, flows }], opts);
    expect(a).toMatchObject({ level: 'high', approvals_required: 2, blast: { flows_cut: 2, bytes_cut: 510 } });
    expect(a.cut.map((c) => c.flow)).toEqual(['10.51.0.10 → 10.20.1.2 tcp/8080', '10.51.0.10 → 10.20.1.1 tcp/8080']);
  });

  it('a change that adds a high-severity compliance finding is high even when it cuts nothing', () => {
    const before: ConfigJson = { firewall: { ipv4: { forward: { filter: { 'default-action': 'drop' } } } } };
    const after: ConfigJson = {
      firewall: { ipv4: { forward: { filter: { 'default-action': 'drop', rule: { '10000': { action: 'accept' } } } } } },
    };
    const a = assessRisk('low', [rules], [{ router: 'r1', before, after, flows: [] }], opts);
    expect(a.level).toBe('high');
    expect(a.compliance).toEqual([
      {
        router: 'r1',
        rule: 'PP-FW-1',
        severity: 'high',
        path: 'firewall ipv4 forward filter rule 10000',
        detail: 'accepts any source to any destination on any protocol',
      },
    ]);
  });

  it('without flow data or a dataplane model a firewall change is at least medium, and says why', () => {
    const noFlows = assessRisk('low', [rules], [{ router: 'r1', before: {}, after: {} }], opts);
    expect(noFlows).toMatchObject({ level: 'medium', computed: { flows: false, reachability: false } });
    expect(noFlows.reasons).toContain('no flow data: which conversations the firewall change cuts is unknown');
    const noModel = assessRisk('low', [rules], [{ router: 'r1', before: {}, after: {}, flows: [] }], {
      ...opts,
      verdict: undefined,
    });
    expect(noModel.reasons).toContain('no dataplane model: reachability not computed');
    // A routing change needs neither.
    expect(assessRisk('low', [weights], [{ router: 'r1', before: {}, after: {} }], opts).level).toBe('low');
  });

  it('a path the change moves traffic onto that shifted suddenly holds the proposal for a human', () => {
    const shifts = [{ path: 'onprem-nyc.aws-use1.2', baseline_ms: 20, recent_ms: 80 }];
    const a = assessRisk('low', [weights], [{ router: 'r1', before: {}, after: {}, flows: [] }], { ...opts, shifts });
    expect(a).toMatchObject({ level: 'medium', hold: true, anomalies: shifts, approvals_required: 1 });
    expect(a.reasons[0]).toBe('held for approval: path onprem-nyc.aws-use1.2 RTT shifted 20 → 80 ms in the last minutes');
  });

  it('a conversation the model cannot judge (IPv6, or the model fails on it) is counted, never thrown, and keeps the level at medium', () => {
    const failing: ForwardVerdict = (_c, p) => {
      if (p.destinationPort === 8443) throw new Error('bad address');
      return 'accept';
    };
    const flows = [{ ...flow('10.20.1.1', 8443, 10) }, { ...flow('10.20.1.1', 443, 10), dst_addr: '2001:db8::1' }];
    const a = assessRisk('low', [rules], [{ router: 'r1', before: {}, after: {}, flows }], { ...opts, verdict: failing });
    expect(a.level).toBe('medium');
    expect(a.reasons).toContain("2 live conversation(s) not judged (not IPv4, or over the assessment's time budget)");
  });
});
