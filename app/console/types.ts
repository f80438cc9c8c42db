/**
 * What the console reads and asks of the actuator, and of the process it runs in. Structural types
 * (no import of the runtime or the actuator role), so the runtime can mount the console without an
 * import cycle; an ActuatorRole and a Shared satisfy them as they are.
 */
import type { Clock } from '../../core/clock.ts';
import type { RootConfig } from '../../core/config/schema.ts';
import type { Topology } from '../../core/config/topology.ts';
import type { Logger } from '../../core/log.ts';
import type { Proposal } from '../../core/proposal.ts';
import type { Store } from '../../core/store/types.ts';
import type { ComplianceView } from '../../actuator/security/compliance-watch.ts';
import type { FaultView } from '../../actuator/faults.ts';
import type { TunnelView } from '../../actuator/tunnels/view.ts';

/** One audit event as the console lists it, newest last. */
export interface ConsoleEvent {
  time: number;
  proposal_id: string;
  event: string;
  actor?: string;
  router?: string;
  detail?: unknown;
}

export interface ConsoleCounts {
  proposals: number;
  applied: number;
  rolled_back: number;
}

/** The actuator as the console uses it: an in-process ActuatorRole, or the audit read from the store. */
export interface ConsoleActuator {
  list(): Promise<Proposal[]>;
  approve(id: string, actor: string): Promise<void>;
  reject(id: string, actor: string): Promise<void>;
  events(limit?: number): Promise<ConsoleEvent[]>;
  counts(): ConsoleCounts | Promise<ConsoleCounts>;
  /** False when another process runs the actuator role: the page then shows decisions as read-only. */
  readonly decides?: boolean;
  /** The tunnels as the actuator's tunnel watch last saw them (absent: the actuator runs elsewhere). */
  tunnels?(): ConsoleTunnels;
  /** The routers' compliance as the actuator's compliance watch last checked it (absent: the actuator runs elsewhere). */
  compliance?(): ConsoleCompliance;
  /** The last fault localization of the actuator's self-heal (absent: the actuator runs elsewhere). */
  faults?(): ConsoleFaults;
}

/** The faults panel's data: the links localized at fault and the bad paths. */
export type ConsoleFaults = FaultView;

/** The tunnel panel's data: the actuator's tunnel watch view. */
export type ConsoleTunnels = TunnelView;

/** The compliance panel's data: each router's score and rule results. */
export type ConsoleCompliance = ComplianceView;

/** The shared adapters the console reads (a runtime Shared is one). */
export interface ConsoleShared {
  config: { root: RootConfig };
  topology: Topology;
  clock: Clock;
  log: Logger;
  store: Store;
}
