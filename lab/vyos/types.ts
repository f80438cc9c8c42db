/**
 * Public types of the VyOS HTTP API emulator. The lab's twin follows routing changes through the
 * in-process {@link VyosRouterHandle}; everything else talks to the routers over real HTTP.
 */
import type { Clock } from '../../core/clock.ts';

/** VyOS release trains the emulator speaks. `1.5` is rolling 2025 (commit-confirm over the API). */
export type VyosVersion = '1.4' | '1.5';

/**
 * A configuration subtree rendered the way `/retrieve showConfig` renders it (vyos1x-config
 * JSONRenderer): tag nodes are objects keyed by tag value, a leaf with one value is a string, a leaf
 * with several values is a list, a valueless leaf or an empty node is `{}`.
 */
export type ConfigJson = { [key: string]: ConfigJson | string | string[] };

/** Why a commit happened. */
export type CommitReason =
  | 'configure'
  | 'configure-section'
  | 'config-file'
  /** The commit-confirm timer expired and the router went back to the last confirmed config. */
  | 'confirm-revert'
  /** The emulator itself (seed config, a test poking the handle). */
  | 'local';

/** Emitted after every commit that changed the running config (and after a revert). */
export interface CommitEvent {
  /** Router name as given to `createVyosLab`. */
  router: string;
  /** Lab-clock time of the commit (epoch ms). */
  at: number;
  /** Commit revision, +1 per commit (the seed config is revision 1). */
  revision: number;
  reason: CommitReason;
  /** The whole running config after the commit, as `set …` lines (see `runningCommands`). */
  commands: string[];
  /**
   * The subsystems whose content changed, as config paths: `['interfaces','wireguard','wg1']`
   * (interfaces: three words), `['qos']`, `['firewall']` (one word), everything else two words
   * (`['load-balancing','wan']`, `['policy','route']`, `['protocols','static']`…). Lets a listener
   * skip unrelated commits. After a partial commit only the committed subsystems are listed.
   */
  changed: string[][];
}

/** Knobs for fault injection; every field is optional and cleared by `faults.reset()`. */
export interface FaultPlan {
  /** Added to every API response (lab clock is NOT used: this is wall-clock latency). */
  latencyMs?: number;
  /** Never answer the next N requests (the socket stays open until the client gives up). */
  hangRequests?: number;
  /** Answer the next N requests with HTTP 500 and the server's internal-error envelope. */
  fail5xx?: number;
  /** Reject the next N configuration commits with `Configuration system temporarily locked …`. */
  lockedCommits?: number;
  /**
   * Make the next commit partial: subtrees whose path starts with one of these prefixes fail
   * verification with this error, the others stay committed (vyatta-cfg priority order).
   */
  partialCommit?: { failPrefix: string[]; message?: string };
  /**
   * Every commit request (`/configure`, `/configure-section`, `/config-file load|merge`) takes this
   * long (wall-clock ms) before it commits, as QoS or firewall commits do on a real router; other
   * configuration requests wait behind it (the API's one global lock). A client that gives up
   * earlier does not stop the commit: it lands anyway.
   */
  slowCommitMs?: number;
}

/** Fault injection handle of one emulated router. */
export interface VyosFaults {
  set(plan: FaultPlan): void;
  reset(): void;
  readonly current: Readonly<FaultPlan>;
}

/** A commit-confirm in progress (1.5 only). */
export interface PendingConfirm {
  /** Lab-clock instant (epoch ms) at which the router reverts unless confirmed. */
  deadline: number;
  minutes: number;
}

/**
 * In-process handle to one emulated router. Reads return exactly what the HTTP API would return
 * for the running (committed) config; errors are thrown as {@link VyosConfigError} with the
 * router's own error text.
 */
export interface VyosRouterHandle {
  readonly name: string;
  readonly version: VyosVersion;
  /** The image's version string (`show version`, `/info`), e.g. `1.5-rolling-202506020019`. */
  readonly image: string;
  /** Base URL of the router's API (`http://127.0.0.1:PORT` or `https://…`), set once started. */
  readonly url: string;
  /** One of the configured API keys (the first `service https api keys id … key`). */
  readonly apiKey: string;
  /**
   * Exactly what `/retrieve {"op":"showConfig","path":path}` returns as `data`: the children of
   * the node at `path`. Throws `VyosConfigError('Configuration under specified path is empty')`
   * when the path is valid but unset, and `'Specified configuration path is not valid'` when invalid.
   */
  showConfig(path?: string[]): ConfigJson;
  /** `/retrieve returnValue`: the value of a single-value leaf, or null when unset. */
  returnValue(path: string[]): string | null;
  /** `/retrieve returnValues`: values of a (multi-value) leaf, `[]` when unset. */
  returnValues(path: string[]): string[];
  /** `/retrieve exists`. */
  exists(path: string[]): boolean;
  /** Running config as `set …` lines (`show configuration commands`), values single-quoted. */
  runningCommands(path?: string[]): string[];
  /** Current commit revision (1 after the seed). */
  revision(): number;
  /** Subscribes to commits; returns the unsubscribe function. Listeners run synchronously after the commit. */
  onCommit(listener: (event: CommitEvent) => void): () => void;
  /** The pending commit-confirm, if any (1.5). */
  pendingConfirm(): PendingConfirm | undefined;
  /**
   * Applies `set …`/`delete …` lines as one local commit (no API key, no faults), with the same
   * validation and verify rules as `/configure`. Throws VyosConfigError on failure (nothing applied).
   */
  applyCommands(lines: string[], reason?: CommitReason): void;
  /** Fault injection for tests. */
  readonly faults: VyosFaults;
  /** Requests answered, by endpoint (`/retrieve`, `/configure`…), for tests and the console. */
  requestCounts(): Record<string, number>;
}

/** One router to emulate. */
export interface VyosRouterSpec {
  name: string;
  version: VyosVersion;
  /** API key accepted by the router; stored as `service https api keys id pathpilot key …`. */
  apiKey: string;
  /** Initial config as `set …` lines (e.g. from `initialRouterConfig`); committed as revision 1. */
  seed?: string[];
  /** Strict mode (`api strict` / `api rest strict`): deleting a missing path is an error. */
  strict?: boolean;
  /** Hostname shown by `show version`/`/info`; defaults to `name`. */
  hostname?: string;
  /**
   * Wall-clock ms the API answers nginx's 502 after a commit that changed `service https`: vyos-1x's
   * service_https.py runs `systemctl reload-or-restart vyos-http-api.service`, whose SIGHUP handler stops
   * uvicorn (the answering request finishes first) and re-initialises it a second later
   * (`src/services/vyos-http-api-server`, main loop `sleep(1)`), and nginx has no upstream meanwhile.
   * Default 0 (no gap): tests that exercise the restart set it.
   */
  apiRestartMs?: number;
  /**
   * The image the router runs, as its version string: `1.4.N`, a rolling build
   * `1.5-rolling-YYYYMMDDHHMM` (or the newer `YYYY.MM.DD-HHMM-rolling`), or a 1.5 release `1.5.N`.
   * On 1.5 the build date decides what the API offers (vyos-facts §1.4, §1.6, §5.5): `GET /info`
   * from March 2025 (PR #4380); `confirm_time` and `{"op":"confirm"}` from June 2025 (PR #4533) —
   * older builds silently ignore `confirm_time` and refuse the confirm op. Default: `1.4.0`, and
   * `1.5-rolling-202506020019` (commit-confirm over the API).
   */
  image?: string;
}

export interface VyosLabOptions {
  routers: VyosRouterSpec[];
  /** Lab clock: drives commit-confirm expiry. Defaults to a RealClock. */
  clock?: Clock;
  /** Serve HTTPS with a self-signed certificate made at start (needs the `openssl` binary). Default false. */
  tls?: boolean;
  /** Listen address; default 127.0.0.1. Ports are always ephemeral. */
  host?: string;
}

/** A running set of emulated routers, one HTTP(S) server each. */
export interface VyosLab {
  readonly routers: ReadonlyMap<string, VyosRouterHandle>;
  /** The router named `name`; throws when unknown. */
  router(name: string): VyosRouterHandle;
  /** API base URL per router name. */
  readonly urls: Record<string, string>;
  /** PEM of the self-signed certificate when `tls` is on (clients pin it or disable verification). */
  readonly certificatePem?: string;
  /** Closes every server and cancels pending confirm timers. Idempotent. */
  stop(): Promise<void>;
}

/** An error with the exact text the router returns (`error` of the envelope). */
export class VyosConfigError extends Error {
  constructor(
    message: string,
    /** HTTP status the API answers with. */
    readonly status = 400,
  ) {
    super(message);
    this.name = 'VyosConfigError';
  }
}
