/**
 * The demo's settings as a config overlay: a plain object merged into the raw configuration (after
 * renamed sections moved, before anything is validated), so every component parses the demo's values
 * the same way it parses the file's. Nothing parsed is edited afterwards.
 */
import { actuationSchema, isRecord } from '../core/config/index.ts';

export interface DemoOverlayOptions {
  auto: boolean;
  /** Simulated seconds per wall second. */
  speedup: number;
  /** Makes the embedded store's folder when the file names none (called only then). */
  storePath: () => string;
  /** The run's seed (--seed): the optimizer's models are seeded with it too, so a rerun repeats. */
  seed?: number;
}

type Raw = Record<string, unknown>;

function at(data: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), data);
}

const actuationDefaults = actuationSchema.parse({});

/**
 * The accelerated clock runs hundreds of simulated seconds per wall second: the learned models' first
 * training (minutes of wall time) would span a simulated day, so the demo plans with the statistical
 * forecasters (Holt-Winters, seasonal naive) and a short history. Keys set in the file win.
 */
const demoOptimizer: Raw = { interval_s: 900, step_s: 300, history_h: 48, epochs: 6, registry_dir: '', learned: false };

/** The overlay for `data` (the raw configuration, renames applied). */
export function demoOverlay(data: Raw, options: DemoOverlayOptions): Raw {
  const actuator: Raw = { mode: options.auto ? 'auto' : 'approval' };
  // `--auto` is the lab's fully closed loop: every proposal may go out unattended (the staged rollout and
  // the SLO guard still gate each step), unless the file sets its own ceiling.
  if (options.auto && at(data, ['actuator', 'auto_approve_max_risk']) === undefined) actuator.auto_approve_max_risk = 'high';
  // Proposals wait for a person in wall time: at 600× an hour of simulated TTL is six seconds, so the
  // TTL stretches with the speed-up to give at least ten wall minutes.
  const ttl = atLeast(
    at(data, ['actuator', 'proposal_ttl_s']),
    actuationDefaults.proposal_ttl_s,
    Math.ceil(options.speedup * 600),
  );
  if (ttl !== undefined) actuator.proposal_ttl_s = ttl;
  // No stretch of the guard's data lag: the demo's clock is in lockstep (core/activity.ts), so a window's
  // data is stored before the simulated clock moves past it.

  const optimizer: Raw = {};
  const configured = at(data, ['optimizer']);
  const defaults = options.seed !== undefined ? { ...demoOptimizer, seed: options.seed } : demoOptimizer;
  for (const [key, value] of Object.entries(defaults)) if (!isRecord(configured) || !(key in configured)) optimizer[key] = value;

  const overlay: Raw = {
    actuator,
    optimizer,
    // The twin sends its IPFIX to whatever port the collector gets.
    ingest: { flow: { port: 0 } },
  };
  const store = at(data, ['services', 'store']);
  const kind = at(store, ['kind']) ?? 'chdb';
  if (kind === 'chdb' && !at(store, ['path'])) overlay.services = { store: { path: options.storePath() } };
  return overlay;
}

/**
 * `max(configured ?? fallback, floor)`, or undefined when the configured value is not a number (the
 * validation that follows reports it) or already high enough.
 */
function atLeast(configured: unknown, fallback: number, floor: number): number | undefined {
  if (configured !== undefined && typeof configured !== 'number') return undefined;
  const current = configured ?? fallback;
  return floor > current ? floor : undefined;
}

/** Merges `overlay` into `data` in place: mappings merge key by key, anything else replaces. */
export function mergeOverlay(data: Raw, overlay: Raw): void {
  for (const [key, value] of Object.entries(overlay)) {
    const current = data[key];
    if (isRecord(value) && isRecord(current)) mergeOverlay(current, value);
    else if (isRecord(value)) {
      // A key the file sets to something other than a mapping stays, so validation names it.
      if (current !== undefined) continue;
      data[key] = {};
      mergeOverlay(data[key] as Raw, value);
    } else data[key] = value;
  }
}
