/**
 * Who may decide proposals from Slack. A valid Slack signature proves the request came from Slack,
 * not that the person who clicked may approve: each Slack user id maps to a pathpilot role, directly
 * (`slack.users`) or through a Slack user group (`slack.user_groups`, membership read with
 * `usergroups.users.list`). Anyone mapped to no role is refused.
 */
import { request } from 'undici';
import type { RootConfig } from '../core/config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import { roleAllows, roles, type Role } from '../core/http/auth.ts';

/** Members of a Slack user group (ids `U…`/`W…`). Injectable: tests and other directories plug in here. */
export interface SlackGroupDirectory {
  members(groupId: string): Promise<ReadonlySet<string>>;
}

export interface SlackWebApiDirectoryOptions {
  /** Bot token with the `usergroups:read` scope. */
  token: string;
  /** Slack's Web API base URL; tests point it at a local stub. */
  apiUrl?: string;
  /** How long a group's member list is trusted. */
  ttlMs?: number;
  /** Slack wants an interaction acknowledged within 3 s, so a lookup gives up well before. */
  timeoutMs?: number;
  /** Bound on cached groups (the config names them, so this only guards against misuse). */
  maxGroups?: number;
  now?: () => number;
}

interface CachedGroup {
  members: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * Group membership over Slack's Web API (undici), cached per group for `ttlMs`, bounded to
 * `maxGroups` entries, one request in flight per group however many clicks arrive at once.
 * Errors (HTTP, `ok: false`, timeout) throw: the caller refuses the decision rather than guess.
 */
export class SlackWebApiGroupDirectory implements SlackGroupDirectory {
  private readonly cache = new Map<string, CachedGroup>();
  private readonly inFlight = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly apiUrl: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly maxGroups: number;
  private readonly now: () => number;
  /** HTTP lookups made (the cache's effect is visible in tests and metrics). */
  lookups = 0;

  constructor(private readonly options: SlackWebApiDirectoryOptions) {
    this.apiUrl = (options.apiUrl ?? 'https://slack.com/api').replace(/\/+$/, '');
    this.ttlMs = options.ttlMs ?? 300_000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxGroups = options.maxGroups ?? 100;
    this.now = options.now ?? Date.now;
  }

  async members(groupId: string): Promise<ReadonlySet<string>> {
    const hit = this.cache.get(groupId);
    if (hit && hit.expiresAt > this.now()) return hit.members;
    let pending = this.inFlight.get(groupId);
    if (!pending) {
      pending = this.fetchMembers(groupId).finally(() => this.inFlight.delete(groupId));
      this.inFlight.set(groupId, pending);
    }
    return pending;
  }

  private async fetchMembers(groupId: string): Promise<ReadonlySet<string>> {
    this.lookups++;
    const url = `${this.apiUrl}/usergroups.users.list?usergroup=${encodeURIComponent(groupId)}`;
    let status: number;
    let text: string;
    try {
      const res = await request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${this.options.token}` },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new Error(`slack usergroups.users.list ${groupId}: ${(err as Error).message}`, { cause: err });
    }
    if (status !== 200) throw new Error(`slack usergroups.users.list ${groupId}: HTTP ${status}`);
    let body: { ok?: unknown; error?: unknown; users?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`slack usergroups.users.list ${groupId}: answer is not JSON`);
    }
    if (body.ok !== true) throw new Error(`slack usergroups.users.list ${groupId}: ${String(body.error ?? 'not ok')}`);
    if (!Array.isArray(body.users) || !body.users.every((u) => typeof u === 'string'))
      throw new Error(`slack usergroups.users.list ${groupId}: no user list in the answer`);
    const members: ReadonlySet<string> = new Set(body.users as string[]);
    this.cache.delete(groupId);
    if (this.cache.size >= this.maxGroups) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(groupId, { members, expiresAt: this.now() + this.ttlMs });
    return members;
  }
}

export interface SlackRoleMapOptions {
  /** Slack user id → role. */
  users?: Record<string, Role>;
  /** Slack user group id → role (needs `directory`). */
  groups?: Record<string, Role>;
  directory?: SlackGroupDirectory;
}

/** Slack user id → the strongest role its direct mapping or any of its groups grants. */
export class SlackRoleMap {
  private readonly users: Map<string, Role>;
  private readonly groups: [string, Role][];
  private readonly directory: SlackGroupDirectory | undefined;

  constructor(options: SlackRoleMapOptions = {}) {
    this.users = new Map(Object.entries(options.users ?? {}));
    // Strongest groups first: a lookup stops as soon as no remaining group could raise the role.
    this.groups = Object.entries(options.groups ?? {}).sort((a, b) => roles.indexOf(b[1]) - roles.indexOf(a[1]));
    this.directory = options.directory;
    if (this.groups.length && !this.directory) throw new Error('slack role map: user groups need a group directory');
  }

  /** True when nobody at all is mapped (every Slack decision will be refused). */
  get empty(): boolean {
    return this.users.size === 0 && this.groups.length === 0;
  }

  /** The user's role, or undefined when unmapped. Throws when a group lookup fails. */
  async roleOf(userId: string): Promise<Role | undefined> {
    let best = this.users.get(userId);
    for (const [group, role] of this.groups) {
      if (best && roleAllows(best, role)) break;
      if ((await this.directory!.members(group)).has(userId)) best = role;
    }
    return best;
  }
}

/** The role map the `slack` config section describes; the bot token comes from the env var it names. */
export function slackRoleMapFromConfig(
  slack: RootConfig['slack'],
  env: NodeJS.ProcessEnv,
  directory?: SlackGroupDirectory,
): SlackRoleMap {
  const groups = slack.user_groups;
  if (Object.keys(groups).length === 0) return new SlackRoleMap({ users: slack.users });
  if (directory) return new SlackRoleMap({ users: slack.users, groups, directory });
  const token = env[slack.bot_token_env];
  if (!token)
    throw new ConfigError([
      `slack.user_groups: needs a bot token (scope usergroups:read) in the environment variable ${slack.bot_token_env} (slack.bot_token_env)`,
    ]);
  return new SlackRoleMap({
    users: slack.users,
    groups,
    directory: new SlackWebApiGroupDirectory({ token, apiUrl: slack.api_url, ttlMs: slack.group_cache_s * 1000 }),
  });
}
