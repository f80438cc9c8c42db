/**
 * The actuator's background passes (self-heal, realized effects, tunnel watch) share one shape: wait an
 * interval on the actuator's clock, run the pass while the clock knows it is busy, count and log a failed
 * pass and go on, end when the actuator stops. Tracked by the pipeline's loop tracker (a loop that dies
 * fails the actuator's health).
 */
import { busyWhile } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { PipelineContext } from './context.ts';

export function trackPeriodic(
  ctx: PipelineContext,
  name: string,
  everyMs: number,
  failure: { errorType: string; message: string },
  pass: () => Promise<unknown>,
  /** `now`: the first pass at once, not an interval later (a watch whose view is wanted from the start). */
  options: { now?: boolean } = {},
): Promise<void> {
  const { d, life } = ctx;
  return ctx.loops.track(name, async () => {
    let first = options.now === true;
    while (!life.stopped) {
      if (!first)
        try {
          await d.clock.sleep(everyMs, life.abort.signal);
        } catch {
          return;
        }
      first = false;
      try {
        await busyWhile(d.clock, name, pass);
      } catch (err) {
        d.metrics.errors.inc({ error_type: failure.errorType });
        d.log?.warn({ err: errorMessage(err) }, failure.message);
      }
    }
  });
}

/** A watch's loop: started once with its interval (none when 0), stopped by waiting for its pass in flight. */
export class WatchLoop {
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly name: string,
    private readonly failure: { errorType: string; message: string },
  ) {}

  /** Passes every `everyS` seconds; the first at once unless `now` is false. */
  start(everyS: number, pass: () => Promise<unknown>, options: { now?: boolean } = { now: true }): void {
    if (everyS <= 0) return;
    this.loop = trackPeriodic(this.ctx, this.name, everyS * 1000, this.failure, pass, options);
  }

  async stop(): Promise<void> {
    await this.loop;
  }
}
