/**
 * The API's TLS material from files, and its reload: the files are checked every `reload_interval_s` and a
 * changed certificate, key or client CA is put in place with `setSecureContext` (new connections use it,
 * open ones keep theirs), so a certificate rotated every 72 h needs no restart. A half-written or mismatched
 * pair is refused and the old one kept (logged), never a server without TLS.
 */
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ApiTlsConfig } from './api-config.ts';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  /** Mutual TLS: a client certificate signed by `ca` is asked for; refused in the handshake unless some paths are exempt. */
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** Paths a client without a verified certificate may call (then every other path checks it per request). */
  exempt: string[];
}

/** Reads the files; throws naming the file when one is missing or the pair does not load. */
export function loadTls(config: ApiTlsConfig): TlsMaterial {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`api.tls.${what} ${file}: ${(err as Error).message}`);
    }
  };
  const m: TlsMaterial = {
    key: read('key_file', config.key_file),
    cert: read('cert_file', config.cert_file),
    requestCert: config.client_ca_file !== '',
    rejectUnauthorized: config.client_ca_file !== '' && config.client_cert_exempt.length === 0,
    exempt: config.client_cert_exempt,
  };
  if (config.client_ca_file) m.ca = read('client_ca_file', config.client_ca_file);
  // Fails here (key not matching the certificate, bad PEM) instead of at the first handshake.
  createSecureContext({ key: m.key, cert: m.cert, ...(m.ca ? { ca: m.ca } : {}) });
  return m;
}

/** The files' modification times, to notice a change. */
const stamp = (c: ApiTlsConfig) =>
  [c.cert_file, c.key_file, c.client_ca_file]
    .filter(Boolean)
    .map((f) => {
      try {
        return statSync(f).mtimeMs;
      } catch {
        return -1;
      }
    })
    .join(',');

/** Checks the files on an interval and reloads them into the server; returns the stop function. */
export function watchTls(
  server: { setSecureContext(options: object): void },
  config: ApiTlsConfig,
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  onReload?: () => void,
): () => void {
  let last = stamp(config);
  const timer = setInterval(() => {
    const now = stamp(config);
    if (now === last) return;
    try {
      const m = loadTls(config);
      server.setSecureContext({ key: m.key, cert: m.cert, ...(m.ca ? { ca: m.ca } : {}) });
      last = now;
      log?.info({ cert_file: config.cert_file }, 'API TLS certificate reloaded');
      onReload?.();
    } catch (err) {
      log?.warn({ err: (err as Error).message }, 'API TLS files changed but do not load: keeping the current ones');
    }
  }, config.reload_interval_s * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
