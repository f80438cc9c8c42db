/**
 * Makes the bus and the job queue visible to a lockstep run (activity.ts): their handlers run as tracked
 * tasks, and what was handed over but not yet picked up (messages published and not consumed by a group
 * of this process, jobs waiting for a worker of this process) counts as pending work. The instances are
 * wrapped in place, so every holder of the bus or queue sees the same object.
 */
import type { Activity } from './activity.ts';
import type { Bus } from './bus/types.ts';
import type { JobHandler, Queue } from './queue/types.ts';

/** Tracks `bus` for `activity`; returns the same bus. */
export function settlingBus<B extends Bus>(bus: B, activity: Activity): B {
  const published = new Map<string, number>();
  /**
   * Per consumer group and topic: messages published before the group's first subscription, and consumed
   * since by any of its members (a group's members split the partitions: together they see every message).
   */
  const groups = new Map<string, Map<string, { before: number; consumed: number }>>();
  const publish = bus.publish.bind(bus);
  const subscribe = bus.subscribe.bind(bus);
  bus.publish = async (topic, messages) => {
    await publish(topic, messages);
    published.set(topic, (published.get(topic) ?? 0) + messages.length);
  };
  bus.subscribe = async (options) => {
    let counts = groups.get(options.group);
    if (!counts) groups.set(options.group, (counts = new Map()));
    for (const topic of options.topics)
      if (!counts.has(topic)) counts.set(topic, { before: published.get(topic) ?? 0, consumed: 0 });
    const byTopic = counts;
    return subscribe({
      ...options,
      handler: (batch) =>
        activity.run(`bus:${options.group}`, async () => {
          await options.handler(batch);
          const c = byTopic.get(batch.topic);
          if (c) c.consumed += batch.messages.length;
        }),
    });
  };
  activity.addSource({
    name: 'bus',
    pending() {
      let n = 0;
      for (const counts of groups.values())
        for (const [topic, c] of counts) n += Math.max(0, (published.get(topic) ?? 0) - c.before - c.consumed);
      return n;
    },
  });
  return bus;
}

/** Tracks `queue` for `activity`; returns the same queue. */
export function settlingQueue<Q extends Queue>(queue: Q, activity: Activity): Q {
  const worked = new Set<string>();
  const process = queue.process.bind(queue);
  queue.process = <T, R>(name: string, handler: JobHandler<T, R>, options?: { concurrency?: number }) => {
    worked.add(name);
    return process<T, R>(name, (data, job) => activity.run(`queue:${name}:${job.name}`, () => handler(data, job)), options);
  };
  activity.addSource({
    name: 'queue',
    async pending() {
      let n = 0;
      for (const name of worked) n += (await queue.counts(name).catch(() => ({ waiting: 0 }))).waiting;
      return n;
    },
  });
  return queue;
}
