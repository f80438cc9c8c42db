/**
 * Slack user → role mapping, and group membership over a local stub of Slack's Web API
 * (`usergroups.users.list`) on loopback: the real HTTP path of the undici directory.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSchema } from '../core/config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import { SlackRoleMap, SlackWebApiGroupDirectory, slackRoleMapFromConfig, type SlackGroupDirectory } from './slack-access.ts';

const TOKEN = 'xoxb-test-token';
const groups: Record<string, string[]> = { S0OPS: ['U0ALICE', 'U0BOB'], S0LEADS: ['U0CARLA'] };

let stub: FastifyInstance;
let apiUrl = '';
const calls: string[] = [];
let delayMs = 0;

beforeAll(async () => {
  stub = Fastify({ logger: false });
  stub.get<{ Querystring: { usergroup?: string } }>('/api/usergroups.users.list', async (req, reply) => {
    calls.push(req.query.usergroup ?? '');
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return { ok: false, error: 'invalid_auth' };
    if (req.query.usergroup === 'S0LIMITED') return reply.code(429).header('retry-after', '30').send({ ok: false });
    const users = groups[req.query.usergroup ?? ''];
    return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
  });
  await stub.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(stub.server.address() as { port: number }).port}/api`;
});

afterAll(async () => {
  await stub.close();
});

describe('Slack group directory over the Web API', () => {
  it('reads members with the bot token and caches each group for its TTL', async () => {
    let now = 0;
    const dir = new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl, ttlMs: 60_000, now: () => now });
    calls.length = 0;
    expect([...(await dir.members('S0OPS'))]).toEqual(['U0ALICE', 'U0BOB']);
    expect((await dir.members('S0OPS')).has('U0BOB')).toBe(true);
    expect(calls).toEqual(['S0OPS']);
    now = 60_001;
    await dir.members('S0OPS');
    expect(calls).toEqual(['S0OPS', 'S0OPS']);
    expect(dir.lookups).toBe(2);
  });

  it('sends one request for concurrent lookups of the same group', async () => {
    const dir = new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl });
    calls.length = 0;
    delayMs = 50;
    try {
      const all = await Promise.all(Array.from({ length: 5 }, () => dir.members('S0LEADS')));
      expect(all.every((m) => m.has('U0CARLA'))).toBe(true);
      expect(calls).toEqual(['S0LEADS']);
    } finally {
      delayMs = 0;
    }
  });

  it('keeps at most maxGroups groups cached', async () => {
    const dir = new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl, maxGroups: 1 });
    calls.length = 0;
    await dir.members('S0OPS');
    await dir.members('S0LEADS'); // evicts S0OPS
    await dir.members('S0OPS');
    expect(calls).toEqual(['S0OPS', 'S0LEADS', 'S0OPS']);
  });

  it('throws on Slack errors, HTTP errors and timeouts instead of guessing', async () => {
    await expect(new SlackWebApiGroupDirectory({ token: 'xoxb-wrong', apiUrl }).members('S0OPS')).rejects.toThrow(/invalid_auth/);
    await expect(new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl }).members('S0NONE')).rejects.toThrow(/no_such_subteam/);
    await expect(new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl }).members('S0LIMITED')).rejects.toThrow(/HTTP 429/);
    delayMs = 500;
    try {
      await expect(new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl, timeoutMs: 100 }).members('S0OPS')).rejects.toThrow(
        /S0OPS/,
      );
    } finally {
      delayMs = 0;
    }
    // A failure is not cached: the next click asks again.
    const dir = new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl });
    await expect(dir.members('S0NONE')).rejects.toThrow();
    await expect(dir.members('S0NONE')).rejects.toThrow();
    expect(dir.lookups).toBe(2);
  });
});

describe('Slack role map', () => {
  it('grants the strongest role of the direct mapping and the groups; unmapped users get none', async () => {
    const map = new SlackRoleMap({
      users: { U0ALICE: 'viewer', U0DAVE: 'admin' },
      groups: { S0OPS: 'approver', S0LEADS: 'admin' },
      directory: new SlackWebApiGroupDirectory({ token: TOKEN, apiUrl }),
    });
    expect(await map.roleOf('U0ALICE')).toBe('approver');
    expect(await map.roleOf('U0BOB')).toBe('approver');
    expect(await map.roleOf('U0CARLA')).toBe('admin');
    expect(await map.roleOf('U0DAVE')).toBe('admin');
    expect(await map.roleOf('U0MALLORY')).toBeUndefined();
    expect(await new SlackRoleMap().roleOf('U0ALICE')).toBeUndefined();
    expect(new SlackRoleMap().empty).toBe(true);
  });

  it('asks for no group when the direct mapping is already the strongest any group grants', async () => {
    const asked: string[] = [];
    const directory: SlackGroupDirectory = {
      members: async (g) => {
        asked.push(g);
        return new Set(groups[g] ?? []);
      },
    };
    const map = new SlackRoleMap({ users: { U0DAVE: 'approver' }, groups: { S0OPS: 'approver' }, directory });
    expect(await map.roleOf('U0DAVE')).toBe('approver');
    expect(asked).toEqual([]);
  });

  it('builds from the slack config section; user groups without a bot token are a config error', async () => {
    const section = slackSchema.parse({ users: { U0ALICE: 'approver' }, user_groups: { S0OPS: 'approver' }, api_url: apiUrl });
    expect(() => slackRoleMapFromConfig(section, {})).toThrow(ConfigError);
    expect(() => slackRoleMapFromConfig(section, {})).toThrow(/PATHPILOT_SLACK_BOT_TOKEN/);
    const map = slackRoleMapFromConfig(section, { PATHPILOT_SLACK_BOT_TOKEN: TOKEN });
    expect(await map.roleOf('U0BOB')).toBe('approver');
    expect(await slackRoleMapFromConfig(slackSchema.parse({ users: { U0ALICE: 'admin' } }), {}).roleOf('U0ALICE')).toBe('admin');
    expect(slackSchema.safeParse({ users: { alice: 'approver' } }).success).toBe(false);
    expect(slackSchema.safeParse({ users: { U0ALICE: 'root' } }).success).toBe(false);
  });
});
