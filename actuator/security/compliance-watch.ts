/**
 * The compliance watch: every `compliance.interval_s` each site router's running config is read
 * (`/retrieve showConfig []`) and checked against the rules pack; scores and failing rules go to the
 * metrics and to the console's view. WireGuard key ages come from the tunnel watch (the overlay's
 * key-times.json plus the rotations it made).
 */
import { WatchLoop } from '../pipeline/periodic.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { assessRouters, type ComplianceContext, type RouterCompliance } from './compliance.ts';
import { recordCompliance } from './metrics.ts';

/** What the console's compliance panel shows. */
export interface ComplianceView {
  /** When the routers were last checked (null: not yet). */
  checked_at: number | null;
  routers: RouterCompliance[];
}

export class ComplianceWatch {
  private readonly periodic: WatchLoop;
  private last: ComplianceView = { checked_at: null, routers: [] };

  constructor(
    private readonly ctx: PipelineContext,
    private readonly keyTimes: () => ReadonlyMap<string, number>,
  ) {
    this.periodic = new WatchLoop(this.ctx, 'compliance-watch', {
      errorType: 'compliance_check',
      message: 'compliance check failed',
    });
  }

  start(): void {
    this.periodic.start(this.ctx.d.config.compliance.interval_s, () => this.check());
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass over every site router now. */
  async check(): Promise<ComplianceView> {
    const { d } = this.ctx;
    const now = d.clock.now();
    const c = d.config.compliance;
    const context: ComplianceContext = {
      now,
      wireguardKeyTimes: this.keyTimes(),
      wireguardMaxKeyAgeH: c.key_max_age_h,
      minApiKeyLength: c.min_api_key_length,
    };
    const routers = [...d.topology.sites.keys()].sort().map((name) => ({
      name,
      // Through a closure: a router the actuator cannot reach is reported by assessRouters, not thrown here.
      api: { showConfig: (path?: string[]) => d.routerFor(name).showConfig(path) },
    }));
    const results = await assessRouters(routers, context);
    recordCompliance(d.metrics.compliance, results, now);
    this.last = { checked_at: now, routers: results };
    return this.last;
  }

  view(): ComplianceView {
    return this.last;
  }
}
