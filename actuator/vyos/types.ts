/**
 * `RouterApi`: what pathpilot needs from a VyOS router's HTTP API, typed, plus the typed errors a call
 * can end with. Implemented by the HTTP client (`client.ts`); the lab's emulator is checked against
 * the same contract by `test/conformance/router-api.ts` (and so is a real VyOS when one is reachable).
 */
import { PathpilotError } from '../../core/errors.ts';

/** VyOS trains pathpilot targets. `1.5` means rolling 2025+ (commit-confirm over the API). */
export type VyosVersion = '1.4' | '1.5';

/**
 * A subtree as `/retrieve showConfig` renders it: tag nodes keyed by tag value, one value → string,
 * several → list, valueless leaf / empty node → `{}`. Also the shape `/configure-section` accepts.
 */
export type ConfigJson = { [key: string]: ConfigJson | string | string[] };

/** One `/configure` command. `value`, when given, is appended to `path` by the router. */
export interface ConfigOp {
  op: 'set' | 'delete' | 'comment';
  path: string[];
  value?: string;
}

export interface ConfigureOptions {
  /**
   * Arm commit-confirm for this many minutes (1.5 only; the router reverts unless `confirm()` is
   * called in time). On a 1.4 router the client refuses (the router would silently ignore it).
   */
  confirmTime?: number;
}

export interface ConfirmResult {
  /** True when a pending commit-confirm was stopped; false when none was pending (already reverted?). */
  confirmed: boolean;
  /** The router's text (`Reload timer stopped`, `No confirm pending`). */
  message: string;
}

export interface RouterInfo {
  /** Version string as the router reports it (`1.4.0`, `1.5-rolling-…`). */
  version: string;
  /** The train this maps to. */
  train: VyosVersion;
  hostname: string;
  /** Where it was read: `GET /info` (1.5 images from March 2025) or op-mode `show version` (every image). */
  via?: '/info' | 'show version';
}

export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

/** The typed VyOS HTTP API. Every method throws one of the errors below on failure. */
export interface RouterApi {
  /** Base URL of the router's API. */
  readonly url: string;
  /** The train the router runs (configured, or learned by `info()`). */
  readonly version: VyosVersion;
  /** Children of the node at `path` (`[]` = whole config); `null` when the path is valid but unset. */
  showConfig(path?: string[]): Promise<ConfigJson | null>;
  /** A single-value leaf's value, or null. */
  returnValue(path: string[]): Promise<string | null>;
  /** A multi-value leaf's values (`[]` when unset). */
  returnValues(path: string[]): Promise<string[]>;
  exists(path: string[]): Promise<boolean>;
  /**
   * Runs the ops in order and commits once. A rejected op discards everything; a failed commit may
   * be partial (see `VyosRejectedError.failedPaths`). Returns the router's output (`null` when none).
   */
  configure(ops: ConfigOp[], options?: ConfigureOptions): Promise<string | null>;
  /**
   * Stops a pending commit-confirm. With nothing pending an image that supports commit-confirm answers
   * `No confirm pending` (confirmed: false); 1.4 and 1.5 images before June 2025 reject the op (400).
   */
  confirm(): Promise<ConfirmResult>;
  /**
   * `/configure-section`: `set` merges `section` under `path`, `load` replaces the subtree at `path`
   * with it (restore of a snapshot taken with `showConfig(path)`).
   */
  configureSection(path: string[], section: ConfigJson, mode: 'set' | 'load', options?: ConfigureOptions): Promise<string | null>;
  /** `/config-file save` (default `/config/config.boot`). */
  saveConfig(file?: string): Promise<string>;
  /** `/config-file load`: replaces the WHOLE config with the file (diff commit). */
  loadConfigFile(file: string, options?: ConfigureOptions): Promise<string | null>;
  /** `generate pki wireguard key-pair`. */
  generateWireguardKeypair(): Promise<WireguardKeyPair>;
  /** Op-mode `show …` output. */
  show(path: string[]): Promise<string>;
  /** Version and hostname (`GET /info` on 1.5, `show version` otherwise). */
  info(): Promise<RouterInfo>;
}

/** Base of every router error; `router` is the API URL (never the key). */
export class VyosError extends PathpilotError {
  constructor(
    code: ConstructorParameters<typeof PathpilotError>[0],
    message: string,
    readonly router: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'VyosError';
  }
}

/** HTTP 401: the key is wrong or missing. */
export class VyosAuthError extends VyosError {
  constructor(
    router: string,
    readonly vyosError: string,
  ) {
    super('PP_ERR_UNAUTHORIZED', `router ${router} refused the API key: ${vyosError}`, router);
    this.name = 'VyosAuthError';
  }
}

/** The router answered `success: false` (HTTP 400): an invalid path or value, a verify failure… */
export class VyosRejectedError extends VyosError {
  /** True when the text ends with `Commit failed`: the commit ran and may have been partial. */
  readonly commitFailed: boolean;
  /** Subsystems the commit reported as failed (`[[interfaces wireguard wg0]] failed`). */
  readonly failedPaths: string[];
  constructor(
    router: string,
    /** The router's error text, HTML entities decoded. */
    readonly vyosError: string,
    readonly status: number,
  ) {
    super('PP_ERR_ROUTER_REJECTED', `router ${router} rejected the request: ${vyosError.trim()}`, router);
    this.name = 'VyosRejectedError';
    this.commitFailed = /Commit failed\s*$/.test(vyosError);
    this.failedPaths = [...vyosError.matchAll(/^\[\[(.+)\]\] failed$/gm)].map((m) => m[1]!);
  }
}

/** `Configuration system temporarily locked …`: another commit is running; retrying later helps. */
export class VyosLockedError extends VyosRejectedError {
  constructor(router: string, vyosError: string, status: number) {
    super(router, vyosError, status);
    this.name = 'VyosLockedError';
  }
}

/** No usable answer: connection refused/reset, TLS failure, or the per-request timeout. */
export class VyosUnreachableError extends VyosError {
  constructor(
    router: string,
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super('PP_ERR_ROUTER_UNREACHABLE', `router ${router} unreachable: ${message}`, router, options);
    this.name = 'VyosUnreachableError';
  }
}

/** An HTTP answer outside the API contract (5xx, 404 when the API is disabled, a non-JSON body). */
export class VyosHttpError extends VyosError {
  constructor(
    router: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(
      status >= 500 ? 'PP_ERR_ROUTER_UNREACHABLE' : 'PP_ERR_ROUTER_REJECTED',
      `router ${router} answered HTTP ${status}: ${body.slice(0, 200)}`,
      router,
    );
    this.name = 'VyosHttpError';
  }
}

/** The operation needs a newer VyOS (commit-confirm over the API on 1.4). */
export class VyosUnsupportedError extends VyosError {
  constructor(router: string, message: string) {
    super('PP_ERR_ROUTER_REJECTED', `router ${router}: ${message}`, router);
    this.name = 'VyosUnsupportedError';
  }
}
