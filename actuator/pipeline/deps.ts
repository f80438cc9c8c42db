/** What the actuator pipeline is built from (createActuator fills it from its deps and its section). */
import type { Bus } from '../../core/bus/types.ts';
import type { Clock } from '../../core/clock.ts';
import type { OnFatal } from '../../core/component.ts';
import type { ActuationConfig } from '../../core/config/schema.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { Logger } from '../../core/log.ts';
import type { Queue } from '../../core/queue/types.ts';
import type { ActuatorConfig } from '../config.ts';
import type { GuardData } from '../guard/index.ts';
import type { ActuatorMetrics } from '../metrics.ts';
import type { RealizedData } from '../realized-measure.ts';
import type { StateStore } from '../state.ts';
import type { RouterApi } from '../vyos/types.ts';
import type { ProposalRecorder } from './recorder.ts';
import type { OverlayState, TunnelLoss } from '../tunnels/overlay-state.ts';
import type { ForwardVerdict, LiveFlow } from '../security/risk.ts';
import type { TimeRange } from '../../analytics/queries/types.ts';
import type { RouterKeyring } from '../security/router-keys.ts';

/** Where the pre-change risk assessment reads live conversations (ClickHouse in the roles). */
export interface RiskData {
  liveFlows(q: { site: string; range: TimeRange; limit: number }): Promise<LiveFlow[]>;
}

export interface PipelineDeps {
  topology: Topology;
  actuation: ActuationConfig;
  config: ActuatorConfig;
  queue: Queue;
  state: StateStore;
  clock: Clock;
  routerFor: (site: string) => RouterApi;
  /** This process's leadership: a leader takes over rollout leases held from before its epoch. */
  leader?: { readonly epoch: number | undefined };
  metrics: ActuatorMetrics;
  guardData?: GuardData;
  /** Where the realized effect of applied proposals is measured (ClickHouse in the roles); none: not measured. */
  realizedData?: RealizedData;
  bus?: Bus;
  log?: Logger;
  slack?: { webhookUrl?: string };
  /** Wall clock for retries (tests may shorten). */
  retryClock?: Clock;
  /** Where status transitions are recorded besides the state store (ClickHouse in the roles). */
  recorder?: ProposalRecorder;
  /** Told when a background loop (self-heal, resume sweep) dies: the composition root stops the process. */
  onFatal?: OnFatal;
  /** The overlay the tunnel watch guards (else read from `tunnels.overlay_dir`; neither: no watch). */
  overlay?: OverlayState;
  /** Probe loss across a tunnel in the last window (where probes cross tunnels); none: handshakes only. */
  tunnelLoss?: TunnelLoss;
  /** Live conversations for the pre-change risk assessment; none: its blast radius is not computed. */
  riskData?: RiskData;
  /** The forward-chain model the reachability diff is judged by (the emulator's, handed in by the roles). */
  forwardVerdict?: ForwardVerdict;
  /** The router API keys and the clients they go into (`actuator.router_keys.store`); none: no rotation. */
  routerKeys?: RouterKeyring;
}
