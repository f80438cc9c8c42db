import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PathpilotError } from '../errors.ts';

/** Roles in increasing power: an approver can do what a viewer can, an admin what an approver can. */
export const roles = ['viewer', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  name: string;
  role: Role;
}

/** Bearer token → principal: static tokens, OIDC access tokens, or a chain of both. */
export interface Authenticator {
  /** `request`: what the caller presented besides the token (its TLS client certificate). */
  authenticate(token: string | undefined, request?: FastifyRequest): Principal | undefined | Promise<Principal | undefined>;
}

interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/**
 * Bearer tokens → principals. Tokens come from the environment (`PATHPILOT_API_TOKENS`,
 * `role:name:token` entries separated by commas) or a file, never from the config file or logs.
 * Comparison is constant-time over SHA-256 digests so timing reveals nothing about a token.
 */
export class TokenAuthenticator implements Authenticator {
  private readonly entries: TokenEntry[];

  constructor(entries: { token: string; principal: Principal }[]) {
    for (const e of entries) {
      if (e.token.length < 16)
        throw new PathpilotError('PP_ERR_CONFIG', `API token for "${e.principal.name}" is shorter than 16 characters`);
    }
    this.entries = entries.map((e) => ({ digest: digest(e.token), principal: e.principal }));
  }

  /** Parses `role:name:token,role:name:token`. */
  static fromSpec(spec: string): TokenAuthenticator {
    const entries = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry, i) => {
        const [role, name, ...rest] = entry.split(':');
        const token = rest.join(':');
        if (!roles.includes(role as Role) || !name || !token)
          throw new PathpilotError(
            'PP_ERR_CONFIG',
            `PATHPILOT_API_TOKENS entry ${i + 1}: expected role:name:token with role viewer|approver|admin`,
          );
        return { token, principal: { name, role: role as Role } };
      });
    return new TokenAuthenticator(entries);
  }

  authenticate(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    const d = digest(token);
    let found: Principal | undefined;
    // Every entry is compared so the time taken does not depend on which one matches.
    for (const e of this.entries) if (timingSafeEqual(d, e.digest)) found = e.principal;
    return found;
  }
}

export function roleAllows(have: Role, need: Role): boolean {
  return roles.indexOf(have) >= roles.indexOf(need);
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme name is case-insensitive
 * (RFC 7235 §2.1), so `bearer` and `BEARER` are accepted too; anything else yields undefined.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const scheme = header ? /^bearer[ \t]+/i.exec(header) : null;
  if (!header || !scheme) return undefined;
  return header.slice(scheme[0].length).trim() || undefined;
}

/** Marks a role check so the server can run it in `onRequest`, wherever a route declared it. */
export const roleGuardMarker = Symbol('pathpilot.roleGuard');

export interface RoleGuard {
  (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  readonly [roleGuardMarker]: Role;
}

export function isRoleGuard(hook: unknown): hook is RoleGuard {
  return typeof hook === 'function' && roleGuardMarker in hook;
}

/**
 * A hook that authenticates the bearer token and checks the role: 401 without a valid token, 403
 * when the role is too weak. Routes declare the least role they need. It belongs in `onRequest`,
 * before the body is read; buildApp moves it there when a route lists it as a `preHandler`.
 */
export function requireRole(auth: Authenticator, need: Role): RoleGuard {
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const principal = await auth.authenticate(bearerToken(request), request);
    if (!principal)
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', code: 'PP_ERR_UNAUTHORIZED' });
    // Known before the role check: a refused caller is named in the access log.
    request.principal = principal;
    if (!roleAllows(principal.role, need))
      return reply
        .code(403)
        .send({ error: `role "${principal.role}" may not do this (needs "${need}")`, code: 'PP_ERR_FORBIDDEN' });
    request.principal = principal;
    return undefined;
  };
  return Object.assign(guard, { [roleGuardMarker]: need });
}

/**
 * Static tokens first (constant-time), then each further authenticator (OIDC) for a token none of them
 * holds: the existing `PATHPILOT_API_TOKENS` keep working beside identity-provider tokens.
 */
export class ChainAuthenticator implements Authenticator {
  constructor(private readonly chain: readonly Authenticator[]) {}
  async authenticate(token: string | undefined, request?: FastifyRequest): Promise<Principal | undefined> {
    for (const a of this.chain) {
      const p = await a.authenticate(token, request);
      if (p) return p;
    }
    return undefined;
  }
}
