import { PathpilotError, UnrecoverableError } from '../errors.ts';
import type { JobOptions } from './types.ts';

export const defaultAttempts = 1;
export const defaultBackoffMs = 1000;

function fail(message: string): never {
  throw new PathpilotError('PP_ERR_VALIDATION', message);
}

/** Queue names become Redis key parts: no ':' (BullMQ's rule), non-empty. */
export function checkQueueName(queue: string): void {
  if (typeof queue !== 'string' || queue.length === 0 || queue.includes(':')) {
    fail(`invalid queue name ${JSON.stringify(queue)}: non-empty, without ':'`);
  }
}

/** Both queues apply BullMQ's rules so a job accepted in memory is accepted on Redis too. */
export function checkJobOptions(queue: string, name: string, options: JobOptions = {}): void {
  checkQueueName(queue);
  if (typeof name !== 'string' || name.length === 0) fail(`queue ${queue}: job name must be a non-empty string`);
  const { jobId, delayMs, attempts, backoffMs } = options;
  if (jobId !== undefined) {
    if (typeof jobId !== 'string' || jobId.length === 0) fail(`queue ${queue}: jobId must be a non-empty string`);
    if (`${parseInt(jobId, 10)}` === jobId) fail(`queue ${queue}: jobId ${jobId} must not be an integer`);
    if (jobId.includes(':')) fail(`queue ${queue}: jobId ${JSON.stringify(jobId)} must not contain ':'`);
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    fail(`queue ${queue}: delayMs must be a number ≥ 0`);
  }
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) {
    fail(`queue ${queue}: attempts must be an integer ≥ 1`);
  }
  if (backoffMs !== undefined && !(Number.isFinite(backoffMs) && backoffMs >= 0)) {
    fail(`queue ${queue}: backoffMs must be a number ≥ 0`);
  }
}

export function checkEvery(queue: string, name: string, everyMs: number): void {
  checkQueueName(queue);
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    fail(`queue ${queue}: repeatable job name must be non-empty, without ':'`);
  }
  if (!(Number.isFinite(everyMs) && everyMs >= 1)) fail(`queue ${queue}: everyMs must be a number ≥ 1`);
}

/** Ours (core/errors.ts) or BullMQ's: both mean "do not retry". */
export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err instanceof Error && err.name === 'UnrecoverableError');
}

/** BullMQ's exponential backoff: the n-th retry (n ≥ 1) waits backoff · 2^(n−1). */
export function backoffDelay(backoffMs: number, attemptsMade: number): number {
  return Math.round(backoffMs * 2 ** Math.max(0, attemptsMade - 1));
}
