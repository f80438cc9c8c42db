/**
 * The one component contract (docs/notes/components.md):
 * - `create(deps, input: unknown)` parses its own config section once with `parseSection` (which throws
 *   only ConfigError, naming each key), builds, and does no I/O;
 * - `start()` does the I/O, `stop()` is idempotent (`memoizeStop`);
 * - background loops run under a `LoopTracker`: a loop that dies fails the component's `health()`,
 *   is logged as fatal and reported to the composition root's `onFatal`, which stops the process;
 * - `health()` (liveness) and `ready()` (readiness) feed `/healthz` and `/readyz`.
 * A composition root starts components in order and stops them in reverse.
 */
import type { z } from 'zod';
import { ConfigSource } from './config/load.ts';
import { ConfigError, errorMessage } from './errors.ts';
import type { Logger } from './log.ts';

/** One component's answer to a health or readiness question. */
export interface ComponentStatus {
  ok: boolean;
  /** Why it is not ok (or what it checked); shown in `/healthz` and `/readyz`. */
  detail?: string;
}

export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Liveness: false once something the component cannot recover from happened (a tracked loop died). */
  health?(): ComponentStatus;
  /** Readiness: started and its dependencies reachable. Without it, "started" is the answer. */
  ready?(): Promise<ComponentStatus>;
}

/** The one `create` signature: shared dependencies, and the raw config section (or a `sectionOf` reference). */
export type CreateComponent<Deps, C extends Component = Component> = (deps: Deps, input?: unknown) => C;

/** A background loop died: what the composition root hears through `onFatal`. */
export interface LoopFailure {
  component: string;
  loop: string;
  error: string;
}

export type OnFatal = (failure: LoopFailure) => void;

/** Wraps a stop function so a second call returns the first call's promise. */
export function memoizeStop(stop: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= stop());
}

/** What a composition root wants to hear while it starts and stops components (the status board). */
export interface LifecycleObserver {
  started(component: Component): void;
  stopped(component: Component): void;
}

/** Starts components in order; if one fails, stops the ones already started (in reverse) and rethrows. */
export async function startAll(components: Component[], observer?: LifecycleObserver): Promise<() => Promise<void>> {
  const started: Component[] = [];
  const stopAll = memoizeStop(async () => {
    for (const c of [...started].reverse()) {
      observer?.stopped(c);
      try {
        await c.stop();
      } catch {
        // Stopping continues: one component failing to stop must not keep the others running.
      }
    }
  });
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
      observer?.started(c);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}

/** Every component of a process by name, for `/healthz` and `/readyz`. */
export interface StatusReport {
  ok: boolean;
  components: Record<string, ComponentStatus>;
}

/**
 * The process's components and which of them are running: liveness asks each `health()` (a dead
 * loop fails it), readiness asks each started component's `ready()` (dependencies reachable) and
 * reports the ones not started (yet, or any more) as not ready.
 */
export class StatusBoard implements LifecycleObserver {
  private readonly components: Component[] = [];
  private readonly running = new Set<Component>();

  /** Components to report on, in start order (a component listed twice is reported once). */
  watch(components: readonly Component[]): this {
    for (const c of components) if (!this.components.includes(c)) this.components.push(c);
    return this;
  }

  started(component: Component): void {
    this.running.add(component);
  }

  stopped(component: Component): void {
    this.running.delete(component);
  }

  liveness(): StatusReport {
    return report(this.components.map((c) => [c.name, safeHealth(c)]));
  }

  async readiness(): Promise<StatusReport> {
    const entries = await Promise.all(
      this.components.map(async (c): Promise<[string, ComponentStatus]> => {
        if (!this.running.has(c)) return [c.name, { ok: false, detail: 'not started' }];
        const live = safeHealth(c);
        if (!live.ok) return [c.name, live];
        if (!c.ready) return [c.name, { ok: true }];
        return [c.name, await c.ready().catch((err: unknown) => ({ ok: false, detail: errorMessage(err) }))];
      }),
    );
    return report(entries);
  }
}

function safeHealth(c: Component): ComponentStatus {
  try {
    return c.health?.() ?? { ok: true };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}

function report(entries: [string, ComponentStatus][]): StatusReport {
  return { ok: entries.every(([, s]) => s.ok), components: Object.fromEntries(entries) };
}

const sectionRef = Symbol('pathpilot.configSection');

/** A section of a loaded configuration file, so a component's errors can name the file line. */
export interface SectionRef {
  readonly [sectionRef]: true;
  readonly source: ConfigSource;
  readonly key: string;
}

/** The input a composition root hands to `create` for the section `key` of `source`. */
export function sectionOf(source: ConfigSource, key: string): SectionRef {
  return { [sectionRef]: true, source, key };
}

function isSectionRef(input: unknown): input is SectionRef {
  return typeof input === 'object' && input !== null && sectionRef in input;
}

/** Where a section given as a plain object (tests, library callers) came from, in error messages. */
const plainInputLabel = 'config';

/**
 * Parses a component's section: `input` is the raw section (missing means `{}` so defaults apply)
 * or a `sectionOf(source, key)` reference. Throws only ConfigError, one issue per offending key,
 * formatted by ConfigSource (`file:line: section.key: message`, did-you-mean for unknown keys).
 */
export function parseSection<S extends z.ZodType>(schema: S, input: unknown, section: string): z.output<S> {
  if (isSectionRef(input)) return input.source.section(input.key, schema);
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const source = new ConfigSource(plainInputLabel, {});
  throw new ConfigError(source.describe(result.error.issues, section.split('.'), schema));
}

export interface LoopTrackerOptions {
  log?: Logger;
  /** Told when a loop dies; the composition root stops every component and exits non-zero. */
  onFatal?: OnFatal;
}

/**
 * Keeps a component's background loops honest: a loop that rejects (dies) is recorded, fails the
 * component's liveness, is logged at fatal level with the component and loop names, and is reported
 * to `onFatal`. A rejection after `stopping()` is the component's own shutdown and is not a death.
 */
export class LoopTracker {
  private readonly deaths: LoopFailure[] = [];
  private readonly running = new Set<Promise<void>>();
  private shuttingDown = false;

  constructor(
    readonly component: string,
    private readonly options: LoopTrackerOptions = {},
  ) {}

  /** Runs `loop` in the background; the returned promise settles when it ends and never rejects. */
  track(loop: string, run: () => Promise<void>): Promise<void> {
    const settled = Promise.resolve()
      .then(run)
      .then(
        () => undefined,
        (err: unknown) => this.died(loop, err),
      )
      .finally(() => this.running.delete(settled));
    this.running.add(settled);
    return settled;
  }

  /** Marks the start of shutdown: loops ending from now on are not deaths. */
  stopping(): void {
    this.shuttingDown = true;
  }

  /** Resolves when every tracked loop has ended (after `stopping()` and the loops' abort). */
  async settled(): Promise<void> {
    await Promise.all([...this.running]);
  }

  health(): ComponentStatus {
    if (this.deaths.length === 0) return { ok: true };
    return { ok: false, detail: this.deaths.map((d) => `loop ${d.loop} died: ${d.error}`).join('; ') };
  }

  failures(): readonly LoopFailure[] {
    return this.deaths;
  }

  private died(loop: string, err: unknown): void {
    const error = errorMessage(err);
    if (this.shuttingDown) {
      this.options.log?.debug({ component: this.component, loop, err: error }, 'background loop ended during stop');
      return;
    }
    const failure: LoopFailure = { component: this.component, loop, error };
    this.deaths.push(failure);
    this.options.log?.fatal(failure, `background loop ${this.component}/${loop} died; the process stops`);
    try {
      this.options.onFatal?.(failure);
    } catch (reportErr) {
      this.options.log?.error({ err: errorMessage(reportErr) }, 'onFatal failed');
    }
  }
}
