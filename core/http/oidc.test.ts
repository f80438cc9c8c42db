import { describe, expect, it } from 'vitest';
import { apiConfigSchema } from './api-config.ts';
import { principalFromClaims } from './oidc.ts';

const config = apiConfigSchema.parse({
  oidc: {
    issuer: 'https://idp.example',
    audience: 'pathpilot',
    roles: { admin: ['neteng-leads'], approver: ['neteng'], viewer: ['all'] },
  },
}).oidc;

describe('OIDC claims → principal', () => {
  it('grants the strongest role any group maps to, named by the username claim, else email, else sub', () => {
    expect(principalFromClaims({ preferred_username: 'ana', groups: ['all', 'neteng-leads', 'neteng'] }, config)).toEqual({
      name: 'oidc:ana',
      role: 'admin',
    });
    expect(principalFromClaims({ email: 'bo@example.net', groups: 'neteng' }, config)).toEqual({
      name: 'oidc:bo@example.net',
      role: 'approver',
    });
    expect(principalFromClaims({ sub: 'u-1', groups: ['all'] }, config)).toEqual({ name: 'oidc:u-1', role: 'viewer' });
  });

  it('refuses a caller whose groups map to no role, or who has no name', () => {
    expect(principalFromClaims({ preferred_username: 'eve', groups: ['guests'] }, config)).toBeUndefined();
    expect(principalFromClaims({ preferred_username: 'eve' }, config)).toBeUndefined();
    expect(principalFromClaims({ groups: ['all'] }, config)).toBeUndefined();
  });

  it('config: an issuer needs an audience; TLS key and certificate go together; a client CA needs both', () => {
    expect(() => apiConfigSchema.parse({ oidc: { issuer: 'https://idp.example' } })).toThrow(/audience is required/);
    expect(() => apiConfigSchema.parse({ tls: { cert_file: 'a.crt' } })).toThrow(/go together/);
    expect(() => apiConfigSchema.parse({ tls: { client_ca_file: 'ca.crt' } })).toThrow(/needs cert_file/);
  });
});
