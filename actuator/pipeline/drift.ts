/**
 * Drift (vyos-facts §5.6): a touched subtree holds something this rollout never put there, because an
 * operator or another tool edited it. The one comparison behind every check — before each step, before
 * each restore, and on resume (Engine.inspect) — lives here: the subtrees a router holds now against the
 * states the rollout knows it may be in (the snapshot, or a step's rendered config). Pure: the engine
 * reads the router and renders the states.
 */
import { PathpilotError } from '../../core/errors.ts';
import { sameConfig } from '../vyos/diff.ts';
import type { ConfigJson } from '../vyos/types.ts';

/** Touched subtrees by path key (`pathKey`): their content, null where absent. */
export type Subtrees = Map<string, ConfigJson | null>;

/**
 * One state a router's touched subtrees may be in. A path the state does not hold is not compared
 * (a step that renders no config for it leaves it as the router holds it).
 */
export interface KnownState {
  /** `snapshot` or `step N` (1-based, as people count steps). */
  name: string;
  holds: Subtrees;
}

export const snapshotStep = -1;

/**
 * Which step indexes a router's record says it holds: the last applied and the one in flight (its
 * request may have landed), or the snapshot (−1) when neither.
 */
export function recordedSteps(r: { applied: number; inFlight: number | null }): number[] {
  const out = [...new Set([r.applied, r.inFlight ?? snapshotStep].filter((k) => k >= 0))];
  return out.length > 0 ? out : [snapshotStep];
}

/** Every state a rollback may find (the snapshot and each step up to the latest recorded): timers and partial commits land on any. */
export function reachableSteps(r: { applied: number; inFlight: number | null }): number[] {
  const last = Math.max(r.applied, r.inFlight ?? snapshotStep);
  return [snapshotStep, ...Array.from({ length: last + 1 }, (_, k) => k)];
}

/**
 * Paths whose content matches none of `states` (each path is judged alone: a partial commit or a
 * resumed in-flight step leaves some paths at one state and some at another). Sorted.
 */
export function driftedPaths(running: Subtrees, states: readonly KnownState[]): string[] {
  const out: string[] = [];
  for (const [key, now] of running) {
    const accepted = states.some((s) => !s.holds.has(key) || sameConfig(now, s.holds.get(key) ?? null));
    if (!accepted) out.push(key);
  }
  return out.sort();
}

/** Whether the router holds exactly one state (every path at it). */
export function holdsState(running: Subtrees, state: KnownState): boolean {
  return driftedPaths(running, [state]).length === 0;
}

/** One router's drift: the touched subtrees (path keys) that hold none of the rollout's states. */
export interface DriftFinding {
  router: string;
  paths: string[];
}

/** `router (path; path), router (path)` — for errors, notes and Slack. */
export function describeDrift(findings: readonly DriftFinding[]): string {
  return findings.map((f) => `${f.router} (${f.paths.join('; ')})`).join(', ');
}

/** A router drifted: the caller stops and sends nothing to it. */
export class RouterDriftError extends PathpilotError {
  constructor(readonly finding: DriftFinding) {
    super(
      'PP_ERR_CONFLICT',
      `router ${finding.router} drifted: ${finding.paths.join('; ')} changed by someone else since this rollout last applied it`,
    );
    this.name = 'RouterDriftError';
  }
}
