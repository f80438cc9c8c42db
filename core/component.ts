/**
 * The one component contract: `create()` is inert (validates and builds, no I/O), `start()` does the I/O,
 * `stop()` is idempotent. A composition root starts components in order and stops them in reverse.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Wraps a stop function so a second call returns the first call's promise. */
export function memoizeStop(stop: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= stop());
}

/** Starts components in order; if one fails, stops the ones already started (in reverse) and rethrows. */
export async function startAll(components: Component[]): Promise<() => Promise<void>> {
  const started: Component[] = [];
  const stopAll = memoizeStop(async () => {
    for (const c of [...started].reverse()) {
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
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
