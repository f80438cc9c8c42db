import { PathpilotError } from '../errors.ts';
import type { BusMessage, SubscribeOptions } from './types.ts';

/** Kafka's topic-name rule (legal characters, at most 249 of them); both buses enforce it. */
const topicPattern = /^[a-zA-Z0-9._-]{1,249}$/;

export const defaultPartitions = 3;
export const defaultMaxBatchMessages = 10_000;

export function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || !topicPattern.test(topic) || topic === '.' || topic === '..') {
    throw new PathpilotError(
      'PP_ERR_BUS',
      `invalid topic name ${JSON.stringify(topic)}: use 1–249 characters among a-z A-Z 0-9 . _ -`,
    );
  }
}

/** Rejects a malformed message before anything of the call is sent, naming its index. */
export function checkMessages(topic: string, messages: readonly BusMessage[]): void {
  checkTopic(topic);
  if (!Array.isArray(messages)) throw new PathpilotError('PP_ERR_BUS', `publish to ${topic}: messages must be an array`);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!m || !Buffer.isBuffer(m.value)) {
      throw new PathpilotError('PP_ERR_BUS', `publish to ${topic}: message ${i} has no Buffer value`);
    }
    if (m.key !== undefined && typeof m.key !== 'string') {
      throw new PathpilotError('PP_ERR_BUS', `publish to ${topic}: message ${i} has a non-string key`);
    }
    if (m.headers !== undefined) {
      for (const [name, value] of Object.entries(m.headers)) {
        if (typeof value !== 'string') {
          throw new PathpilotError('PP_ERR_BUS', `publish to ${topic}: message ${i} header ${name} is not a string`);
        }
      }
    }
  }
}

export function checkSubscribe(options: SubscribeOptions): void {
  if (!options.group || typeof options.group !== 'string') {
    throw new PathpilotError('PP_ERR_BUS', 'subscribe: group must be a non-empty string');
  }
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new PathpilotError('PP_ERR_BUS', `subscribe (group ${options.group}): topics must be a non-empty array`);
  }
  options.topics.forEach(checkTopic);
  if (typeof options.handler !== 'function') {
    throw new PathpilotError('PP_ERR_BUS', `subscribe (group ${options.group}): handler must be a function`);
  }
  const max = options.maxBatchMessages;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new PathpilotError('PP_ERR_BUS', `subscribe (group ${options.group}): maxBatchMessages must be an integer ≥ 1`);
  }
  const fetch = options.fetchBytesPerPartition;
  if (fetch !== undefined && (!Number.isInteger(fetch) || fetch < 1024)) {
    throw new PathpilotError(
      'PP_ERR_BUS',
      `subscribe (group ${options.group}): fetchBytesPerPartition must be an integer ≥ 1024`,
    );
  }
  const concurrently = options.partitionsConcurrently;
  if (concurrently !== undefined && (!Number.isInteger(concurrently) || concurrently < 1 || concurrently > 64)) {
    throw new PathpilotError(
      'PP_ERR_BUS',
      `subscribe (group ${options.group}): partitionsConcurrently must be an integer from 1 to 64`,
    );
  }
  const minBytes = options.fetchMinBytes;
  if (minBytes !== undefined && (!Number.isInteger(minBytes) || minBytes < 1)) {
    throw new PathpilotError('PP_ERR_BUS', `subscribe (group ${options.group}): fetchMinBytes must be an integer ≥ 1`);
  }
  const wait = options.fetchMaxWaitMs;
  if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > 30_000)) {
    throw new PathpilotError(
      'PP_ERR_BUS',
      `subscribe (group ${options.group}): fetchMaxWaitMs must be an integer from 0 to 30000`,
    );
  }
}

/** Redelivery backoff after the n-th consecutive failure of a partition's batch (n ≥ 1). */
export function retryDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(20, failures - 1));
}
