/**
 * The optimizer role, active/standby (core/leader.ts): every optimizer process of a deployment builds an
 * optimizer, but only the leader starts it — its schedule, its queue jobs (runs, retraining), its
 * proposals. A standby answers the API's reads from an optimizer it never started, refuses `run-now`
 * (409: the leader runs), and starts a fresh optimizer when it comes to lead; a leader that loses its
 * leadership stops its optimizer at once and keeps a fresh, unstarted one for reads again.
 *
 * Proposals are fenced on the leader's epoch: the optimizer's queue refuses to publish one unless this
 * process still leads (a deposed leader finishing a solve publishes nothing).
 */
import { memoizeStop, type ComponentStatus } from '../core/component.ts';
import { PathpilotError } from '../core/errors.ts';
import type { Leadership } from '../core/leader.ts';
import { proposalQueueName } from '../core/proposal.ts';
import type { Queue } from '../core/queue/types.ts';
import type { Optimizer } from '../optimizer/index.ts';

/** `queue` with every proposal it publishes behind `fence` (the leadership check); other jobs pass. */
export function proposalsFenced(queue: Queue, fence: () => Promise<void>): Queue {
  return {
    get kind() {
      return queue.kind;
    },
    start: () => queue.start(),
    stop: () => queue.stop(),
    add: async (name, job, data, options) => {
      if (name === proposalQueueName) await fence();
      return queue.add(name, job, data, options);
    },
    repeat: (name, job, data, everyMs) => queue.repeat(name, job, data, everyMs),
    process: (name, handler, options) => queue.process(name, handler, options),
    getJob: (name, id) => queue.getJob(name, id),
    counts: (name) => queue.counts(name),
    obliterate: (name) => queue.obliterate(name),
  };
}

export interface StandbyOptimizerDeps {
  /** Builds an optimizer (inert until started) on the queue it is given. */
  make: (queue: Queue) => Optimizer;
  queue: Queue;
  leadership: Leadership;
  /** The leadership store's own connection, if it has one (opened before, closed after the optimizer). */
  store?: { start(): Promise<void>; stop(): Promise<void> };
}

/** The optimizer of a process that may stand by: an `Optimizer` whose engine is the current term's. */
export function standbyOptimizer(d: StandbyOptimizerDeps): Optimizer {
  const { leadership } = d;
  const queue = proposalsFenced(d.queue, () => leadership.check());
  let current = d.make(queue);
  let running = false;
  const standby = () =>
    new PathpilotError('PP_ERR_CONFLICT', 'this optimizer stands by: the leading optimizer process runs the optimization');
  return {
    name: 'optimizer',
    get engine() {
      return current.engine;
    },
    runNow: () => (running ? current.runNow() : Promise.reject(standby())),
    // Queued: the leader's worker trains, whichever process was asked.
    retrain: () => current.retrain(),
    initialTrainingJob: () => current.initialTrainingJob(),
    async start() {
      await d.store?.start();
      await leadership.start({
        elected: async () => {
          await current.start();
          running = true;
        },
        deposed: async () => {
          running = false;
          const ended = current;
          // A stopped optimizer does not start again: reads go to a fresh one until the next term.
          current = d.make(queue);
          await ended.stop();
        },
      });
    },
    stop: memoizeStop(async () => {
      await leadership.stop();
      await current.stop();
      await d.store?.stop();
    }),
    health(): ComponentStatus {
      const own = current.health?.() ?? { ok: true };
      return own.ok ? leadership.health() : own;
    },
  };
}
