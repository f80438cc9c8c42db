/**
 * The VyOS HTTP API client (undici): one keep-alive pool per router, a per-request timeout (reads
 * and op-mode calls get `timeoutMs`, commits get the longer `commitTimeoutMs`), TLS
 * verification on by default (or a pinned CA), the key read from an environment variable and never
 * logged or put in an error. Bodies parse as JSON whatever the content type (`text/html` on VyOS).
 */
import { Agent, FormData, request } from 'undici';
import type { SiteConfig } from '../../core/config/schema.ts';
import {
  VyosAuthError,
  VyosHttpError,
  VyosLockedError,
  VyosRejectedError,
  VyosUnreachableError,
  VyosUnsupportedError,
  type ConfigJson,
  type ConfigOp,
  type ConfigureOptions,
  type ConfirmResult,
  type RouterApi,
  type RouterInfo,
  type VyosVersion,
  type WireguardKeyPair,
} from './types.ts';

export interface VyosClientOptions {
  /** Base URL, e.g. `https://192.0.2.1` (a trailing slash is ignored). */
  url: string;
  /** Name of the environment variable holding the key. @defaultValue `PATHPILOT_VYOS_KEY` */
  apiKeyEnv?: string;
  /** The key itself (tests, the lab). Takes precedence over `apiKeyEnv`. */
  apiKey?: string;
  /** Environment to read `apiKeyEnv` from. @defaultValue `process.env` */
  env?: NodeJS.ProcessEnv;
  /** The router's train; decides whether commit-confirm is sent. @defaultValue `1.4` */
  version?: VyosVersion;
  /** Per-request timeout in ms (connect + answer) of reads, op-mode calls and `confirm`. @defaultValue 10000 */
  timeoutMs?: number;
  /**
   * Timeout in ms of requests that commit (`/configure`, `/configure-section`, `/config-file`).
   * Real commits take tens of seconds (QoS, firewall; vyos-facts §5.5); a commit the client gave
   * up on still lands, so giving up early only costs a retry that re-reads. @defaultValue 60000
   */
  commitTimeoutMs?: number;
  /** Verify the router's certificate. @defaultValue true */
  tlsVerify?: boolean;
  /** PEM CA (or the self-signed certificate) to trust instead of the system store. */
  ca?: string;
  /** Body encoding; every VyOS release accepts all three. @defaultValue `json` */
  encoding?: 'json' | 'multipart' | 'urlencoded';
}

const emptyConfigText = 'Configuration under specified path is empty';

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

interface Envelope {
  success: boolean;
  data: unknown;
  error: string | null;
}

function isEnvelope(v: unknown): v is Envelope {
  return v !== null && typeof v === 'object' && 'success' in v && typeof (v as Envelope).success === 'boolean';
}

/** `RouterApi` over HTTP. */
export class VyosClient implements RouterApi {
  readonly url: string;
  version: VyosVersion;
  #key: string;
  readonly #options: VyosClientOptions;
  readonly #timeoutMs: number;
  readonly #commitTimeoutMs: number;
  readonly #encoding: 'json' | 'multipart' | 'urlencoded';
  readonly #agent: Agent;

  constructor(options: VyosClientOptions) {
    if (!/^https?:\/\//.test(options.url))
      throw new Error(`vyos client: url must start with http:// or https:// (got "${options.url}")`);
    this.url = options.url.replace(/\/+$/, '');
    this.#options = options;
    const envName = options.apiKeyEnv ?? 'PATHPILOT_VYOS_KEY';
    const key = options.apiKey ?? (options.env ?? process.env)[envName];
    if (!key) throw new Error(`vyos client: no API key for ${this.url} (environment variable ${envName} is unset)`);
    this.#key = key;
    this.version = options.version ?? '1.4';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    if (!(this.#timeoutMs > 0)) throw new Error('vyos client: timeoutMs must be greater than 0');
    this.#commitTimeoutMs = options.commitTimeoutMs ?? 60_000;
    if (!(this.#commitTimeoutMs > 0)) throw new Error('vyos client: commitTimeoutMs must be greater than 0');
    this.#encoding = options.encoding ?? 'json';
    // Header and body timeouts are set per request (reads and commits differ); connecting is the same for both.
    this.#agent = new Agent({
      connect: { rejectUnauthorized: options.tlsVerify ?? true, ...(options.ca ? { ca: options.ca } : {}) },
      connectTimeout: this.#timeoutMs,
    });
  }

  /**
   * Every later call sends `key` (a rotated router API key: actuator/security/router-keys.ts). Calls
   * already sent keep the key they were sent with.
   */
  useKey(key: string): void {
    if (!key) throw new Error(`vyos client: empty API key for ${this.url}`);
    this.#key = key;
  }

  /** A separate client (its own pool) to the same router with another key: a rotation's verification. */
  withKey(key: string): VyosClient {
    return new VyosClient({ ...this.#options, version: this.version, apiKey: key });
  }

  /** Keeps the key out of `console.log(client)` and JSON dumps. */
  toJSON(): Record<string, unknown> {
    return { url: this.url, version: this.version };
  }

  /** The timeouts in force: reads (and op mode, confirm) and commits. */
  get timeouts(): { readMs: number; commitMs: number } {
    return { readMs: this.#timeoutMs, commitMs: this.#commitTimeoutMs };
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  private body(data: Record<string, unknown>): { body: string | FormData; headers: Record<string, string> } {
    if (this.#encoding === 'json') {
      return { body: JSON.stringify({ ...data, key: this.#key }), headers: { 'content-type': 'application/json' } };
    }
    if (this.#encoding === 'urlencoded') {
      const p = new URLSearchParams({ data: JSON.stringify(data), key: this.#key });
      return { body: p.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    }
    const f = new FormData();
    f.set('data', JSON.stringify(data));
    f.set('key', this.#key);
    return { body: f, headers: {} };
  }

  /**
   * One API call; returns the envelope's `data` or throws a typed error. `commit` calls wait
   * `commitTimeoutMs`, every other call `timeoutMs`.
   */
  private async call(endpoint: string, data: Record<string, unknown>, kind: 'read' | 'commit' = 'read'): Promise<unknown> {
    const { body, headers } = this.body(data);
    const timeoutMs = kind === 'commit' ? this.#commitTimeoutMs : this.#timeoutMs;
    let status: number;
    let text: string;
    try {
      const res = await request(`${this.url}${endpoint}`, {
        method: 'POST',
        body,
        headers,
        dispatcher: this.#agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      const timedOut =
        e.name === 'TimeoutError' ||
        e.name === 'AbortError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        e.code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new VyosUnreachableError(
        this.url,
        timedOut ? `no answer within ${timeoutMs} ms (${endpoint})` : `${e.code ?? e.name ?? 'error'}: ${e.message ?? ''}`,
        timedOut,
        { cause: err },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new VyosHttpError(this.url, status, text);
    }
    if (!isEnvelope(parsed)) throw new VyosHttpError(this.url, status, text);
    if (parsed.success) return parsed.data;
    const message = decodeEntities(parsed.error ?? '');
    if (status === 401) throw new VyosAuthError(this.url, message);
    if (status >= 500) throw new VyosHttpError(this.url, status, message);
    if (message.includes('temporarily locked')) throw new VyosLockedError(this.url, message, status);
    throw new VyosRejectedError(this.url, message, status);
  }

  async showConfig(path: string[] = []): Promise<ConfigJson | null> {
    try {
      const data = await this.call('/retrieve', { op: 'showConfig', path });
      return (data ?? {}) as ConfigJson;
    } catch (err) {
      if (err instanceof VyosRejectedError && err.vyosError.startsWith(emptyConfigText)) return null;
      throw err;
    }
  }

  async returnValue(path: string[]): Promise<string | null> {
    const data = await this.call('/retrieve', { op: 'returnValue', path });
    return typeof data === 'string' ? data : null;
  }

  async returnValues(path: string[]): Promise<string[]> {
    const data = await this.call('/retrieve', { op: 'returnValues', path });
    return Array.isArray(data) ? data.map(String) : [];
  }

  async exists(path: string[]): Promise<boolean> {
    return (await this.call('/retrieve', { op: 'exists', path })) === true;
  }

  private confirmField(options: ConfigureOptions | undefined): Record<string, unknown> {
    const minutes = options?.confirmTime;
    if (minutes === undefined || minutes === 0) return {};
    if (!Number.isInteger(minutes) || minutes < 0) throw new Error('vyos client: confirmTime must be a whole number of minutes');
    if (this.version !== '1.5')
      throw new VyosUnsupportedError(this.url, 'commit-confirm over the API needs VyOS 1.5 (rolling 2025+); this router is 1.4');
    return { confirm_time: minutes };
  }

  async configure(ops: ConfigOp[], options?: ConfigureOptions): Promise<string | null> {
    if (ops.length === 0) throw new Error('vyos client: configure needs at least one op');
    // The object form (never a bare list), so confirm_time is honoured.
    const data = await this.call('/configure', { commands: ops, ...this.confirmField(options) }, 'commit');
    return typeof data === 'string' ? data : null;
  }

  /**
   * `{"op":"confirm"}` to `/config-file`, sent whatever the configured train: the router is the judge
   * (vyos-facts §1.6, §5.5). Not `/configure`: there the op also commits whatever the API's shared
   * session holds, and images without commit-confirm refuse it as a command without `path` (see
   * docs/notes/vyos.md, fact 28). 1.4 and 1.5 images before June 2025 answer 400 `'confirm' is not a
   * valid operation` (a VyosRejectedError): how actuator/vyos/capabilities.ts probes support.
   */
  async confirm(): Promise<ConfirmResult> {
    const data = await this.call('/config-file', { op: 'confirm' });
    const message = typeof data === 'string' ? data.trim() : '';
    return { confirmed: /timer stopped/i.test(message), message };
  }

  async configureSection(
    path: string[],
    section: ConfigJson,
    mode: 'set' | 'load',
    options?: ConfigureOptions,
  ): Promise<string | null> {
    const data = await this.call('/configure-section', { op: mode, path, section, ...this.confirmField(options) }, 'commit');
    return typeof data === 'string' ? data : null;
  }

  async saveConfig(file?: string): Promise<string> {
    return String((await this.call('/config-file', { op: 'save', ...(file ? { file } : {}) }, 'commit')) ?? '');
  }

  async loadConfigFile(file: string, options?: ConfigureOptions): Promise<string | null> {
    const data = await this.call('/config-file', { op: 'load', file, ...this.confirmField(options) }, 'commit');
    return typeof data === 'string' ? data : null;
  }

  async generateWireguardKeypair(): Promise<WireguardKeyPair> {
    const text = String(await this.call('/generate', { op: 'generate', path: ['pki', 'wireguard', 'key-pair'] }));
    const priv = /Private key:\s*(\S+)/.exec(text)?.[1];
    const pub = /Public key:\s*(\S+)/.exec(text)?.[1];
    if (!priv || !pub) throw new VyosHttpError(this.url, 200, `unexpected generate output: ${text.slice(0, 80)}`);
    return { privateKey: priv, publicKey: pub };
  }

  async show(path: string[]): Promise<string> {
    return String((await this.call('/show', { op: 'show', path })) ?? '');
  }

  async info(): Promise<RouterInfo> {
    if (this.version === '1.5') {
      // GET /info (rolling 2025+): no key needed.
      try {
        const res = await request(`${this.url}/info?version=true&hostname=true`, {
          method: 'GET',
          dispatcher: this.#agent,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const parsed: unknown = JSON.parse(await res.body.text());
        if (res.statusCode === 200 && isEnvelope(parsed) && parsed.success) {
          const d = parsed.data as { version?: string; hostname?: string };
          return { version: d.version ?? '', train: trainOf(d.version ?? ''), hostname: d.hostname ?? '', via: '/info' };
        }
      } catch {
        // Older rolling images have no /info: fall back to `show version`.
      }
    }
    const text = await this.show(['version']);
    const version = /^Version:\s+VyOS\s+(\S+)/m.exec(text)?.[1] ?? '';
    const trainName = /^Release train:\s+(\S+)/m.exec(text)?.[1] ?? '';
    return { version, train: trainName === 'sagitta' ? '1.4' : trainOf(version), hostname: '', via: 'show version' };
  }
}

function trainOf(version: string): VyosVersion {
  return /^1\.4/.test(version) ? '1.4' : '1.5';
}

/** Builds a client from explicit options. */
export function createVyosClient(options: VyosClientOptions): VyosClient {
  return new VyosClient(options);
}

/**
 * The client for a site's router as `pathpilot.yaml` describes it (`api_url`, `api_key_env`,
 * `vyos_version`, `tls_verify`). `overrides.url` replaces an empty `api_url` (the lab assigns URLs).
 */
export function vyosClientForSite(
  site: SiteConfig,
  overrides: Partial<
    Pick<VyosClientOptions, 'url' | 'apiKey' | 'env' | 'timeoutMs' | 'commitTimeoutMs' | 'ca' | 'encoding'>
  > = {},
): VyosClient {
  const url = overrides.url ?? site.router.api_url;
  if (!url) throw new Error(`site "${site.id}": router.api_url is empty and no URL was given`);
  return new VyosClient({
    url,
    apiKeyEnv: site.router.api_key_env,
    version: site.router.vyos_version,
    tlsVerify: site.router.tls_verify,
    ...overrides,
  });
}
