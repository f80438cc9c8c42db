/**
 * What every stage of the actuator pipeline (intake → approvals → rollout → audit) shares: the
 * dependencies, the record store, the engine that talks to the routers, the audit trail, the status
 * machine and the process's lifecycle (stopping, and the signal every wait listens to).
 */
import { EventEmitter } from 'node:events';
import { LoopTracker } from '../../core/component.ts';
import type { PipelineDeps } from './deps.ts';
import { Engine } from '../engine.ts';
import { CapabilityCache } from '../vyos/capabilities.ts';
import { AuditTrail } from './audit.ts';
import { RecordStore } from './records.ts';
import { StatusMachine } from './status.ts';

export type { PipelineDeps } from './deps.ts';

export interface PipelineContext {
  d: PipelineDeps;
  records: RecordStore;
  events: EventEmitter;
  engine: Engine;
  audit: AuditTrail;
  status: StatusMachine;
  /** The background loops (self-heal, resume sweep): one that dies fails the actuator's health. */
  loops: LoopTracker;
  life: { stopped: boolean; readonly abort: AbortController };
  /** Routers besides the topology's sites that changes may target: the watched overlay's nodes (tunnels/watch.ts). */
  overlayRouters: Set<string>;
}

/**
 * Commit-confirm minutes on routers whose probe says it works: never shorter than the whole bake (the
 * bake time plus the ingest lag the guard may wait for its last interval) plus 2 minutes for the
 * guard's queries and the confirms — a timer that fires mid-bake reverts a change the guard would
 * pass. A configured value below that is raised, with a warning. The engine adds the commit time of
 * the routers applied after each one.
 */
function confirmMinutes(d: PipelineDeps): number {
  const lagS = (d.actuation.guard as { max_data_lag_s?: number }).max_data_lag_s ?? 0;
  const required = Math.ceil((d.actuation.bake_time_s + lagS) / 60) + 2;
  const configured = d.config.commit_confirm_minutes;
  if (configured === -1) return 0;
  if (configured > 0 && configured < required)
    d.log?.warn(
      { commit_confirm_minutes: configured, required },
      'actuator.commit_confirm_minutes is shorter than the bake plus margin: using the required minutes',
    );
  return Math.max(configured, required);
}

export function createPipelineContext(d: PipelineDeps): PipelineContext {
  const records = new RecordStore(d.state);
  const events = new EventEmitter();
  events.setMaxListeners(100);
  const engine = new Engine({
    topology: d.topology,
    routerFor: d.routerFor,
    lanInterface: d.config.lan_interface,
    confirmMinutes: confirmMinutes(d),
    commitTimeoutMs: d.config.commit_timeout_ms,
    capabilities: new CapabilityCache({ gauge: d.metrics.routerCapability, ...(d.log ? { log: d.log } : {}) }),
    retry: { attempts: d.config.retry.attempts, baseMs: d.config.retry.base_ms, maxMs: d.config.retry.max_ms },
    ...(d.retryClock ? { retryClock: d.retryClock } : {}),
    ...(d.log ? { log: d.log } : {}),
    clock: d.clock,
  });
  const deps = { ...d, state: records };
  return {
    d: deps,
    records,
    events,
    engine,
    audit: new AuditTrail(deps, events),
    status: new StatusMachine(deps, records, events),
    loops: loopTracker(d),
    life: { stopped: false, abort: new AbortController() },
    overlayRouters: new Set(),
  };
}

function loopTracker(d: PipelineDeps): LoopTracker {
  return new LoopTracker('actuator', { ...(d.log ? { log: d.log } : {}), ...(d.onFatal ? { onFatal: d.onFatal } : {}) });
}

/**
 * The pipeline lives again after a stop (the actuator leads again after it lost its leadership): a new
 * `life` and loop tracker, so the stages start as on the first start. Records, audit trail and engine stay.
 */
export function reviveContext(ctx: PipelineContext): void {
  ctx.life = { stopped: false, abort: new AbortController() };
  ctx.loops = loopTracker(ctx.d);
}
