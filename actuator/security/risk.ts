/**
 * Pre-change risk assessment: what a proposal would do, judged before anyone approves it.
 * - **Blast radius**: the live conversations (flows over the last hours, from ClickHouse) whose path
 *   changes (a weight, pin or QoS change on the router they leave by) or whose fate changes (the router's
 *   forward chain accepts them before the change and drops them after, or the reverse).
 * - **Reachability diff**: each conversation's verdict before and after, judged by the forward-chain
 *   model of the VyOS emulator (lab/vyos/firewall-eval.ts: nftables' semantics, handed in by the roles)
 *   on the router's running config and on that config with the change applied (`Engine.preview`).
 * - **Compliance delta**: findings of the rules pack the change adds or removes.
 * The level found: high when a live conversation would be cut or a high-severity finding added; medium
 * when traffic is newly allowed, a lesser finding added, or the impact of a firewall change cannot be
 * judged (no flow data). The proposal's level is the higher of that and its own. High is never applied
 * unattended; high found by the assessment needs two distinct approvers.
 */
import ipaddr from 'ipaddr.js';
import type { LiveFlow } from '../../analytics/queries/index.ts';
import { riskLevels, type Intent, type RiskAssessment, type RiskLevel } from '../../core/proposal.ts';
import { valuesAt } from '../vyos/tree.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { complianceDelta, evaluateCompliance, type ComplianceContext } from './compliance.ts';
import type { PathShift } from './path-anomaly.ts';

export type { LiveFlow } from '../../analytics/queries/index.ts';

/** What a router's forward chain does with one packet at one time (the emulator's model). */
export type ForwardVerdict = (
  config: ConfigJson,
  packet: { protocol: 'tcp' | 'udp' | 'icmp'; source: string; destination: string; destinationPort?: number },
  at: number,
  routerTimeZone: string,
) => 'accept' | 'drop' | 'reject';

export interface RouterChange {
  router: string;
  before: ConfigJson;
  after: ConfigJson;
  /** The router's live conversations (undefined: no flow data). */
  flows?: readonly LiveFlow[];
}

/** How many conversations of each list the assessment keeps (the largest). */
const KEEP = 20;
/** Milliseconds of forward-chain verdicts one assessment may spend (the rest is counted as not judged). */
const VERDICT_BUDGET_MS = 2000;
const isIpv4 = (a: string) => ipaddr.IPv4.isValidFourPartDecimal(a);
const PROTOCOLS: Record<number, 'tcp' | 'udp' | 'icmp'> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

const maxLevel = (a: RiskLevel, b: RiskLevel): RiskLevel => (riskLevels.indexOf(a) >= riskLevels.indexOf(b) ? a : b);

/** Whether an address is inside one of the prefixes (same family; an unparsable one is not). */
function inPrefixes(addr: string, prefixes: readonly string[]): boolean {
  if (!ipaddr.isValid(addr)) return false;
  const a = ipaddr.process(addr);
  return prefixes.some((p) => {
    try {
      const net = ipaddr.parseCIDR(p);
      return a.kind() === net[0].kind() && a.match(net);
    } catch {
      return false;
    }
  });
}

/** Conversations whose path a routing intent moves: those leaving its router towards its prefixes (and class). */
function pathChanged(flow: LiveFlow, intents: readonly Intent[]): boolean {
  return intents.some((i) => {
    if (i.kind === 'path-weights' || i.kind === 'class-pin')
      return (i.class === flow.class || flow.class === '') && inPrefixes(flow.dst_addr, i.dst_prefixes);
    return false;
  });
}

/** Whether intents change firewall rules or groups (what the reachability diff judges); a whole subtree under `firewall` too. */
export const touchesFirewall = (intents: readonly Intent[]) =>
  intents.some(
    (i) =>
      i.kind === 'firewall-rules' ||
      i.kind === 'firewall-group' ||
      (i.kind === 'config-subtrees' && i.subtrees.some((s) => s.path[0] === 'firewall')),
  );

const flowText = (f: LiveFlow) =>
  `${f.src_addr} → ${f.dst_addr} ${PROTOCOLS[f.protocol] ?? `proto ${f.protocol}`}${f.dst_port ? `/${f.dst_port}` : ''}`;

export function assessRisk(
  stated: RiskLevel,
  intents: readonly Intent[],
  changes: readonly RouterChange[],
  opts: { verdict?: ForwardVerdict; compliance: ComplianceContext; windowH: number; now: number; shifts?: readonly PathShift[] },
): RiskAssessment {
  const reasons: string[] = [];
  // What the assessment itself finds; the level is the higher of it and the stated one.
  let level: RiskLevel = 'low';
  const blast = {
    window_h: opts.windowH,
    flows_rerouted: 0,
    bytes_rerouted: 0,
    flows_cut: 0,
    bytes_cut: 0,
    flows_opened: 0,
    bytes_opened: 0,
  };
  const cut: RiskAssessment['cut'] = [];
  const opened: RiskAssessment['opened'] = [];
  const findings: RiskAssessment['compliance'] = [];
  let flowData = true;
  /** Conversations the model could not judge (not IPv4, over the work budget, or the model failed on them). */
  let unjudged = 0;
  const started = performance.now();
  let reachability = touchesFirewall(intents) && opts.verdict !== undefined;

  for (const c of changes) {
    const mine = intents.filter((i) => i.router === c.router);
    // Compliance: what the change adds or removes on this router.
    const after = evaluateCompliance(c.router, c.after, opts.compliance);
    const severity = new Map(after.results.map((r) => [r.id, r.severity]));
    for (const a of complianceDelta(evaluateCompliance(c.router, c.before, opts.compliance), after).added)
      findings.push({
        router: c.router,
        rule: a.rule,
        severity: severity.get(a.rule)!,
        path: a.finding.path,
        detail: a.finding.detail,
      });
    if (!c.flows) {
      flowData = false;
      continue;
    }
    const tz = valuesAt(c.before, 'system', 'time-zone')[0] ?? 'UTC';
    for (const f of c.flows) {
      if (pathChanged(f, mine)) {
        blast.flows_rerouted++;
        blast.bytes_rerouted += f.bytes;
      }
      if (!reachability || !touchesFirewall(mine)) continue;
      const protocol = PROTOCOLS[f.protocol];
      // The forward chain judged is IPv4's (`firewall ipv4`): other families are not judged, and said so.
      if (!protocol || !isIpv4(f.src_addr) || !isIpv4(f.dst_addr)) {
        unjudged++;
        continue;
      }
      // A budget of work: a large group makes each verdict costly, and the actuator must stay responsive.
      if (performance.now() - started > VERDICT_BUDGET_MS) {
        unjudged++;
        continue;
      }
      const packet = {
        protocol,
        source: f.src_addr,
        destination: f.dst_addr,
        ...(f.dst_port ? { destinationPort: f.dst_port } : {}),
      };
      // Judged at the time the conversation was last seen: a time-windowed rule decides as it would have then.
      let was: boolean;
      let will: boolean;
      try {
        was = opts.verdict!(c.before, packet, f.last_seen, tz) === 'accept';
        will = opts.verdict!(c.after, packet, f.last_seen, tz) === 'accept';
      } catch {
        unjudged++;
        continue;
      }
      const row = { router: c.router, flow: flowText(f), bytes: f.bytes, class: f.class };
      if (was && !will) {
        blast.flows_cut++;
        blast.bytes_cut += f.bytes;
        cut.push(row);
      } else if (!was && will) {
        blast.flows_opened++;
        blast.bytes_opened += f.bytes;
        opened.push(row);
      }
    }
  }
  if (!flowData) reachability = false;

  if (blast.flows_cut > 0) {
    level = 'high';
    reasons.push(
      `cuts ${blast.flows_cut} live conversation(s) (${blast.bytes_cut} bytes in ${opts.windowH} h), e.g. ${cut[0]!.flow}`,
    );
  }
  const highFinding = findings.find((f) => f.severity === 'high');
  if (highFinding) {
    level = 'high';
    reasons.push(`adds high-severity compliance finding ${highFinding.rule} (${highFinding.path})`);
  } else if (findings.length) {
    level = maxLevel(level, 'medium');
    reasons.push(`adds compliance finding ${findings[0]!.rule} (${findings[0]!.path})`);
  }
  if (blast.flows_opened > 0) {
    level = maxLevel(level, 'medium');
    reasons.push(`newly allows ${blast.flows_opened} conversation(s) the firewall dropped`);
  }
  if (reachability && unjudged > 0) {
    level = maxLevel(level, 'medium');
    reasons.push(`${unjudged} live conversation(s) not judged (not IPv4, or over the assessment's time budget)`);
  }
  if (touchesFirewall(intents) && !reachability) {
    level = maxLevel(level, 'medium');
    reasons.push(
      opts.verdict
        ? 'no flow data: which conversations the firewall change cuts is unknown'
        : 'no dataplane model: reachability not computed',
    );
  }
  const anomalies = [...(opts.shifts ?? [])];
  if (anomalies.length) {
    level = maxLevel(level, 'medium');
    reasons.push(
      `held for approval: ${anomalies.map((a) => `path ${a.path} RTT shifted ${a.baseline_ms} → ${a.recent_ms} ms`).join(', ')} in the last minutes`,
    );
  }
  if (blast.flows_rerouted > 0)
    reasons.push(`re-routes ${blast.flows_rerouted} live conversation(s) (${blast.bytes_rerouted} bytes in ${opts.windowH} h)`);
  if (!reasons.length) reasons.push('no live conversation changes path or fate; no compliance finding added');
  const found = level;
  level = maxLevel(stated, found);
  const largest = <T extends { bytes: number }>(xs: T[]) => xs.sort((a, b) => b.bytes - a.bytes).slice(0, KEEP);
  return {
    level,
    stated,
    // Two approvers when the change itself is shown to cut live traffic or weaken the router; a proposal
    // that only states high risk (the optimizer's own judgement) needs one, and is never applied unattended.
    approvals_required: found === 'high' ? 2 : 1,
    reasons,
    blast,
    cut: largest(cut),
    opened: largest(opened),
    compliance: findings,
    computed: { flows: flowData, reachability },
    anomalies,
    hold: anomalies.length > 0,
    assessed_at: opts.now,
  };
}
