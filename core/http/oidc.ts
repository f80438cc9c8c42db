/**
 * OIDC bearer tokens: a JWT access/ID token validated with `jose` against the issuer's JWKS (signature,
 * `iss`, `aud`, `exp`/`nbf` with a minute of clock skew), its groups claim mapped to a role. The JWKS is
 * fetched when first needed and refreshed by jose when a token names an unknown key (key rotation at the
 * provider needs no restart).
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ApiOidcConfig } from './api-config.ts';
import { roles, type Authenticator, type Principal, type Role } from './auth.ts';

/** What a verified token's claims grant: the strongest role of its groups, named by the username claim. */
export function principalFromClaims(claims: JWTPayload, config: ApiOidcConfig): Principal | undefined {
  const raw = claims[config.groups_claim];
  const groups = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  let role: Role | undefined;
  for (const r of roles) if (config.roles[r].some((g) => groups.includes(g))) role = r;
  if (!role) return undefined;
  const name = [claims[config.username_claim], claims['email'], claims.sub].find((v) => typeof v === 'string' && v !== '');
  return name ? { name: `oidc:${name as string}`, role } : undefined;
}

export class OidcAuthenticator implements Authenticator {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  /** After a failed discovery, no new attempt before this (a token flood must not become a fetch flood). */
  private retryAt = 0;

  constructor(
    private readonly config: ApiOidcConfig,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  private async keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    let uri = this.config.jwks_uri;
    if (!uri && Date.now() < this.retryAt) throw new Error('OIDC discovery failed recently; retrying later');
    if (!uri) {
      this.retryAt = Date.now() + 30_000;
      const res = await fetch(`${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`OIDC discovery at ${this.config.issuer} answered ${res.status}`);
      uri = String(((await res.json()) as { jwks_uri?: unknown }).jwks_uri ?? '');
      if (!uri) throw new Error(`OIDC discovery at ${this.config.issuer} names no jwks_uri`);
    }
    this.jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    return this.jwks;
  }

  async authenticate(token: string | undefined): Promise<Principal | undefined> {
    // Only compact JWS (three dot-separated parts) can be one; static tokens never reach the provider.
    if (!token || token.split('.').length !== 3) return undefined;
    try {
      const { payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: 60,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      });
      return principalFromClaims(payload, this.config);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'OIDC token refused');
      return undefined;
    }
  }
}
