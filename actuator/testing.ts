/**
 * Fixtures for exercising the actuator without the optimizer: the example configuration tuned for fast
 * rollouts (short bake, a guard that decides on its first look) and a three-router weight-shift proposal.
 * The actuator's functional tests and its benchmarks (bench/actuator) share them; nothing in the product
 * imports this file.
 */
import { RealClock } from '../core/clock.ts';
import { loadConfig } from '../core/config/index.ts';
import type { RootConfig } from '../core/config/schema.ts';
import type { ProposalInput } from '../core/proposal.ts';
import { MemoryQueue } from '../core/queue/index.ts';
import { createActuator, type ActuatorDeps } from './index.ts';
import { signSlackBody } from './slack.ts';
import type { Actuator } from './types.ts';
import type { GuardData } from './guard/index.ts';
import type { WindowComparison } from '../analytics/queries/types.ts';

/** The example config in approval mode with a three-step rollout, a 1 s bake and a 1 s guard interval. */
export function testRoot(overrides: Partial<RootConfig['actuator']> = {}): RootConfig {
  const root = loadConfig(undefined, {}).root;
  return {
    ...root,
    actuator: {
      ...root.actuator,
      mode: 'approval',
      rollout_steps: [0.2, 0.5, 1],
      bake_time_s: 1,
      // The fake guard data is there at once: no ingest lag to wait for.
      guard: Object.assign(
        { ...root.actuator.guard },
        { interval_s: 1, failure_limit: 0, inconclusive_limit: 2, max_regression: 0.25, max_data_lag_s: 0 },
      ),
      ...overrides,
    },
  };
}

let seq = 0;
/** A weight shift on three routers: NYC → AWS mostly over the VPN, FRA and AWS towards NYC. */
export function weightProposal(id = `p-${Date.now()}-${seq++}`, extra: Partial<ProposalInput> = {}): ProposalInput {
  return {
    id,
    created_at: Date.now(),
    kind: 'path-weights',
    reason: 'NYC→AWS us-east-1: move bulk traffic to the VPN while the interconnect is congested',
    inputs: { model_versions: { traffic: 'gru-1' }, horizon_min: 60 },
    intents: [
      {
        kind: 'path-weights',
        router: 'onprem-nyc',
        pair: ['onprem-nyc', 'aws-use1'],
        class: 'bulk',
        dst_prefixes: ['10.10.0.0/16'],
        weights: { 'nyc-use1-dx': 30, 'nyc-use1-vpn': 70 },
      },
      {
        kind: 'path-weights',
        router: 'aws-use1',
        pair: ['aws-use1', 'onprem-nyc'],
        class: 'bulk',
        dst_prefixes: ['10.51.0.0/16'],
        weights: { 'nyc-use1-dx': 50, 'nyc-use1-vpn': 50 },
      },
      {
        kind: 'path-weights',
        router: 'onprem-fra',
        pair: ['onprem-fra', 'aws-euc1'],
        class: 'bulk',
        dst_prefixes: ['10.11.0.0/16'],
        weights: { 'fra-euc1-dx': 80, 'fra-weu-er': 20 },
      },
    ],
    predicted: {
      cost_per_day: 120,
      cost_per_day_before: 140,
      rtt_p95_ms: { 'onprem-nyc>aws-use1': 14 },
      max_utilization: 0.7,
      slo_risk: 0.05,
    },
    risk: 'low',
    scope: [{ pair: ['onprem-nyc', 'aws-use1'], class: 'bulk', paths: [] }],
    ...extra,
  };
}

/**
 * A started actuator on an in-process queue that reaches no router (its API, Slack and audit tests, the API
 * bench): a call to a router throws. `deps` and `section` override the defaults; stop both when done.
 */
export async function startRouterlessActuator(
  deps: Partial<ActuatorDeps> = {},
  section: Record<string, unknown> = {},
): Promise<{ actuator: Actuator; queue: MemoryQueue }> {
  const queue = new MemoryQueue();
  await queue.start();
  const actuator = createActuator(
    {
      root: testRoot(),
      queue,
      clock: new RealClock(),
      routerFor: () => {
        throw new Error('this actuator reaches no router');
      },
      env: {},
      ...deps,
    },
    { gitops_dir: '', ...section },
  );
  await actuator.start();
  return { actuator, queue };
}

/** A Slack interactivity POST signed with `secret` at `ts` (seconds), in fastify inject's form. */
export function signedSlackPost(secret: string, body: string, ts = Math.floor(Date.now() / 1000)) {
  return {
    method: 'POST' as const,
    url: '/slack/interactions',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackBody(secret, ts, body),
    },
    payload: body,
  };
}

/**
 * Probe quality the guard and the self-heal see: healthy unless a test breaks it, everywhere (`bad`) or
 * on some paths (`badPaths`); `calls` counts the comparisons asked for.
 */
export class SwitchableGuardData implements GuardData {
  bad = false;
  readonly badPaths = new Set<string>();
  calls = 0;
  async compare(q: { pathIds: string[] }): Promise<WindowComparison> {
    this.calls++;
    const base = { rtt_p50_ms: 10, rtt_p95_ms: 14, loss_ratio: 0, jitter_ms: 1, windows: 6, sent: 600 };
    const broken = this.bad || q.pathIds.some((p) => this.badPaths.has(p));
    const cur = broken ? { ...base, rtt_p95_ms: 900, loss_ratio: 0.2 } : base;
    return {
      current: cur,
      baseline: base,
      change: { rtt_p50: 0, rtt_p95: (cur.rtt_p95_ms - 14) / 14, loss: cur.loss_ratio, jitter: 0 },
    };
  }
}
