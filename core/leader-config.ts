/**
 * The `leader` keys of the optimizer's and actuator's sections, apart from leader.ts: the config
 * schema every process validates must not load the election and its Redis client (ioredis) into
 * processes that never elect (`start ingest`).
 */
import { z } from 'zod';

/** The `leader` keys of a role's section (actuator.leader, optimizer.leader). */
export const leaderConfigSchema = z
  .object({
    /** Leadership lease time to live: a dead leader's standby takes over at most this + `renew_ms` later. */
    ttl_ms: z.number().int().min(200).max(120_000).default(5000),
    /** Renewal period of the leader, and how often a standby tries to take over. */
    renew_ms: z.number().int().min(50).max(60_000).default(1500),
  })
  .strict()
  .refine((c) => c.renew_ms * 2 <= c.ttl_ms, {
    message: 'renew_ms must be at most half of ttl_ms (a renewal may fail once without losing the leadership)',
    path: ['renew_ms'],
  });

export type LeaderConfig = z.infer<typeof leaderConfigSchema>;
export const defaultLeaderConfig: LeaderConfig = { ttl_ms: 5000, renew_ms: 1500 };
