/**
 * Client certificates as principals (`api.tls.client_roles`): a caller that sent no bearer token and whose
 * TLS certificate the server verified against the enterprise CA (`client_ca_file`) is named by the
 * certificate's subject CN, with the strongest role its CN or one of its OUs maps to. A token, when sent,
 * always decides instead: one caller, one identity. Node has verified the chain during the handshake
 * (`socket.authorized`); an unverified certificate never names anyone.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { ApiTlsConfig } from './api-config.ts';
import { roles, type Authenticator, type Principal, type Role } from './auth.ts';

/** The subject's values of one attribute (Node gives a string, or an array when it repeats). */
const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class ClientCertAuthenticator implements Authenticator {
  constructor(private readonly mapping: ApiTlsConfig['client_roles']) {}

  authenticate(token: string | undefined, request?: FastifyRequest): Principal | undefined {
    if (token || !request) return undefined;
    const socket = request.raw.socket as Partial<TLSSocket>;
    if (!socket.encrypted || !socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined;
    const cn = values(subject?.['CN'])[0];
    if (!cn) return undefined;
    const names = new Set([cn, ...values(subject?.['OU'])]);
    // Strongest first: admin, approver, viewer.
    const role = [...roles].reverse().find((r: Role) => this.mapping[r].some((n) => names.has(n)));
    return role ? { name: `cert:${cn}`, role } : undefined;
  }
}
