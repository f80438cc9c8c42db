/**
 * The pre-change risk assessment of an arriving proposal (security/risk.ts): each router's running config
 * and the config with the change applied (`Engine.preview`, reads only), its live conversations over the
 * last `risk.window_h` hours (ClickHouse), the dataplane model's verdicts and the compliance pack. A router
 * or store that cannot be read leaves the assessment incomplete (and said so), never the proposal stuck.
 */
import type { Proposal, RiskAssessment } from '../../core/proposal.ts';
import { errorMessage } from '../../core/errors.ts';
import { pathShifts } from '../security/path-anomaly.ts';
import { assessRisk, touchesFirewall, type RouterChange } from '../security/risk.ts';
import type { PipelineContext } from './context.ts';

/** A store read the assessment waits for at most this long (a hung ClickHouse never wedges intake). */
const STORE_TIMEOUT_MS = 10_000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How long a proposal's arrival waits for its assessment: an emergency failover must not wait on slow reads
 * (a router retried, a day of flows aggregated), a routine change may wait longer.
 */
const DEADLINE_MS = { emergency: 3000, routine: 30_000 };

/**
 * The assessment, within its deadline; one that fails or takes longer yields a fallback that says so (the
 * stated level, at least medium where firewall rules change), never a lost or stuck proposal.
 */
export async function assessProposal(ctx: PipelineContext, proposal: Proposal): Promise<RiskAssessment> {
  const deadline = proposal.emergency ? DEADLINE_MS.emergency : DEADLINE_MS.routine;
  try {
    return await withinMs(assessNow(ctx, proposal), deadline);
  } catch (err) {
    ctx.d.log?.warn({ proposal: proposal.id, err: errorMessage(err) }, 'risk assessment incomplete');
    const firewall = touchesFirewall(proposal.intents);
    const a = assessRisk(proposal.risk, proposal.intents, [], {
      compliance: complianceContext(ctx),
      windowH: ctx.d.config.risk.window_h,
      now: ctx.d.clock.now(),
    });
    return {
      ...a,
      level: firewall && a.level === 'low' ? 'medium' : a.level,
      reasons: [`the assessment did not complete (${errorMessage(err)}): impact unknown`],
      computed: { flows: false, reachability: false },
    };
  }
}

function complianceContext(ctx: PipelineContext) {
  const c = ctx.d.config.compliance;
  return { now: ctx.d.clock.now(), wireguardMaxKeyAgeH: c.key_max_age_h, minApiKeyLength: c.min_api_key_length };
}

async function assessNow(ctx: PipelineContext, proposal: Proposal): Promise<RiskAssessment> {
  const { d, engine } = ctx;
  const cfg = d.config.risk;
  const now = d.clock.now();
  const compliance = complianceContext(ctx);
  const opts: Parameters<typeof assessRisk>[3] = {
    compliance,
    windowH: cfg.window_h,
    now,
    ...(d.forwardVerdict ? { verdict: d.forwardVerdict } : {}),
  };
  let previews: Awaited<ReturnType<typeof engine.preview>>;
  try {
    previews = await engine.preview(proposal.intents);
  } catch (err) {
    // Without the routers' configs nothing can be judged: the stated risk stands, at least medium.
    const a = assessRisk(proposal.risk, proposal.intents, [], opts);
    const level = a.level === 'low' ? 'medium' : a.level;
    return {
      ...a,
      level,
      reasons: [`the routers' configs could not be read (${errorMessage(err)}): impact unknown`],
      computed: { flows: false, reachability: false },
    };
  }
  const range = { from: now - cfg.window_h * 3_600_000, to: now };
  // Route security: the paths the change moves traffic onto, checked for a sudden RTT shift.
  const onto = [...new Set(proposal.scope.flatMap((s) => s.paths))];
  if (d.realizedData && onto.length)
    try {
      const minutes = await withinMs(
        d.realizedData.quality({ range: { from: now - 86_400_000, to: now }, pathIds: onto }),
        STORE_TIMEOUT_MS,
      );
      opts.shifts = pathShifts(minutes, now);
    } catch (err) {
      d.log?.warn({ err: errorMessage(err) }, 'path metrics could not be read for the risk assessment');
    }
  // An emergency failover that touches no firewall is judged without the flow scan: the conversations it
  // re-routes inform, they cannot change its level, and a failover should not wait on a 24 h aggregate.
  const firewall = touchesFirewall(proposal.intents);
  const riskData = firewall || !proposal.emergency ? d.riskData : undefined;
  const changes: RouterChange[] = await Promise.all(
    [...previews].map(async ([router, { before, after }]) => {
      if (!riskData) return { router, before, after };
      try {
        const flows = await withinMs(riskData.liveFlows({ site: router, range, limit: cfg.max_flows }), STORE_TIMEOUT_MS);
        return { router, before, after, flows };
      } catch (err) {
        d.log?.warn({ router, err: errorMessage(err) }, 'live flows could not be read for the risk assessment');
        return { router, before, after };
      }
    }),
  );
  return assessRisk(proposal.risk, proposal.intents, changes, opts);
}
