/**
 * Slack replay protection shared through real Redis: two API processes (two fastify apps over one
 * actuator) each with their own RedisReplayCache on the same Redis; a signed request acted on by one
 * is refused by the other, and the key lives exactly until the signature window closes.
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { RedisReplayCache } from '../../../core/http/replay.ts';
import { buildApp } from '../../../core/http/server.ts';
import { createRegistry } from '../../../core/metrics.ts';
import type { MemoryQueue } from '../../../core/queue/index.ts';
import { actuatorRoutes, type Actuator } from '../../../actuator/index.ts';
import { SlackRoleMap } from '../../../actuator/slack-access.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { weightProposal } from './support.ts';
import { signedSlackPost, startRouterlessActuator } from '../../../actuator/testing.ts';

const SECRET = 'slack-signing-secret-for-replay-tests';
const tokens = TokenAuthenticator.fromSpec('admin:root:admin-token-0123456789');

describe('Slack replay cache on Redis', () => {
  let redisUrl: string;
  let prefix: string;
  let queue: MemoryQueue;
  let actuator: Actuator;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    redisUrl = requireService('redis');
    prefix = uniqueName('pp-replay');
    ({ actuator, queue } = await startRouterlessActuator());
    const slackRoles = new SlackRoleMap({ users: { U0ALICE: 'approver' } });
    for (let i = 0; i < 2; i++)
      apps.push(
        await buildApp({ registry: createRegistry(), auth: tokens }, [
          actuatorRoutes(actuator, { slackSigningSecret: SECRET, slackRoles, replay: new RedisReplayCache(redisUrl, prefix) }),
        ]),
      );
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await actuator?.stop();
    await queue?.stop();
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('a signed request one API process acted on is refused by the other', async () => {
    const p = weightProposal();
    await actuator.submit(p);
    const payload = {
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice' },
      actions: [{ action_id: 'reject', value: p.id }],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const ts = Math.floor(Date.now() / 1000);
    const send = (app: FastifyInstance) => app.inject(signedSlackPost(SECRET, body, ts));
    expect((await send(apps[0]!)).statusCode).toBe(200);
    expect((await actuator.get(p.id))?.proposal.status).toBe('rejected');
    const replayed = await send(apps[1]!);
    expect(replayed.statusCode).toBe(409);
    expect(replayed.json().code).toBe('PP_ERR_CONFLICT');
    expect((await send(apps[0]!)).statusCode).toBe(409);
    expect(actuator.changes(p.id).map((c) => c.event)).toEqual(['proposed', 'rejected']);
  });

  it('keeps a key until the window closes, then forgets it', async () => {
    const a = new RedisReplayCache(redisUrl, prefix);
    const b = new RedisReplayCache(redisUrl, prefix);
    try {
      const expiresAt = Date.now() + 400;
      expect(await a.firstUse('k', expiresAt)).toBe(true);
      expect(await b.firstUse('k', expiresAt)).toBe(false);
      const [first, second] = await Promise.all([a.firstUse('race', expiresAt), b.firstUse('race', expiresAt)]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      // Bounded wait for Redis to expire the key (PXAT), at most 3 s.
      let again = false;
      for (let i = 0; i < 30 && !again; i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await b.firstUse('k', Date.now() + 400);
      }
      expect(again).toBe(true);
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
