/** The API server's `api:` section: TLS with optional client certificates, and OIDC bearer tokens. */
import { z } from 'zod';

export const apiTlsSchema = z
  .object({
    /** PEM certificate chain and key: both set → HTTPS; both empty → plain HTTP (loopback, the demo). */
    cert_file: z.string().default(''),
    key_file: z.string().default(''),
    /**
     * PEM CA bundle (the enterprise CA): set → mutual TLS, a client without a certificate signed by it is
     * refused during the handshake, before any request is read.
     */
    client_ca_file: z.string().default(''),
    /**
     * Paths (prefixes) a client without a certificate may still call when client_ca_file is set: callers
     * that cannot hold the enterprise CA's certificate, e.g. `/slack/interactions` (signed by Slack) or
     * `/metrics` (a scraper). With any, the certificate is asked for but checked per request (401 without a
     * verified one), not in the handshake.
     */
    client_cert_exempt: z.array(z.string().regex(/^\//, 'a path starting with /')).default([]),
    /** How often the files are checked; a change is loaded without a restart (certificates rotate every 72 h). */
    reload_interval_s: z.number().int().min(1).default(60),
    /**
     * Client certificates as principals: a caller with no bearer token whose certificate (verified against
     * client_ca_file) has a subject CN or OU listed here gets that role (the strongest one it matches),
     * named `cert:<CN>`. Empty: a certificate admits the connection and the role comes from a token.
     */
    client_roles: z
      .object({
        admin: z.array(z.string().min(1)).default([]),
        approver: z.array(z.string().min(1)).default([]),
        viewer: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ admin: [], approver: [], viewer: [] }),
  })
  .strict()
  .refine((t) => (t.cert_file === '') === (t.key_file === ''), { message: 'cert_file and key_file go together' })
  .refine((t) => t.client_ca_file === '' || t.cert_file !== '', { message: 'client_ca_file needs cert_file and key_file' })
  .refine((t) => t.client_ca_file !== '' || t.client_cert_exempt.length === 0, {
    message: 'client_cert_exempt needs client_ca_file',
  })
  .refine((t) => t.client_ca_file !== '' || Object.values(t.client_roles).every((l) => l.length === 0), {
    message: 'client_roles needs client_ca_file (only a verified certificate may name a caller)',
  });

const groups = z.array(z.string().min(1)).default([]);

export const apiOidcSchema = z
  .object({
    /** The identity provider's issuer URL (`iss`); empty: OIDC off. */
    issuer: z.string().default(''),
    /** The `aud` tokens must carry (the client id pathpilot is registered as). */
    audience: z.string().default(''),
    /** Where the signing keys are; empty: from the issuer's `/.well-known/openid-configuration`. */
    jwks_uri: z.string().default(''),
    /** The claim holding the caller's groups (a list of names). */
    groups_claim: z.string().default('groups'),
    /** The claim naming the caller in the audit trail (falls back to `email`, then `sub`). */
    username_claim: z.string().default('preferred_username'),
    /** Group → role: a caller gets the strongest role any of its groups maps to; none → refused. */
    roles: z
      .object({ admin: groups, approver: groups, viewer: groups })
      .strict()
      .default({ admin: [], approver: [], viewer: [] }),
  })
  .strict()
  .refine((o) => o.issuer === '' || o.audience !== '', { message: 'oidc.audience is required with oidc.issuer' });

export const apiConfigSchema = z
  .object({
    tls: apiTlsSchema.default(apiTlsSchema.parse({})),
    oidc: apiOidcSchema.default(apiOidcSchema.parse({})),
  })
  .strict();

export type ApiTlsConfig = z.infer<typeof apiTlsSchema>;
export type ApiOidcConfig = z.infer<typeof apiOidcSchema>;
export type ApiConfig = z.infer<typeof apiConfigSchema>;
