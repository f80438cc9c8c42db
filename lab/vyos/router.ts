/**
 * One emulated VyOS router: the running config, the session semantics of `/configure` (ops applied
 * in order to a candidate, discard on the first error, one commit), the vyatta commit (subsystems in
 * priority order, verify per subsystem, partial on failure), commit-confirm on the lab clock (1.5),
 * config files, op-mode `generate`/`show`, and the in-process handle the twin reads.
 */
import { randomBytes } from 'node:crypto';
import { wireguardKeyPair, wireguardPublicKey } from '../../core/wireguard-keys.ts';
import { humanSeconds, type IpsecSaView } from './ipsec-tunnels.ts';
import type { Clock } from '../../core/clock.ts';
import { lookupSchema, resolvePath, schemaFor, type SchemaNode } from './schema.ts';
import {
  ConfigNode,
  applyDelete,
  applySet,
  dictToPaths,
  parseConfigText,
  renderBoot,
  renderCommands,
  renderJson,
  splitCommand,
} from './tree.ts';
import { commitFailureText, subsystemsOf, verifySubsystem, type Subsystem } from './verify.ts';
import { imageFeatures, type ImageFeatures } from './image.ts';
import { showIpBgp, type BgpRib } from './bgp.ts';
import {
  VyosConfigError,
  type CommitEvent,
  type CommitReason,
  type ConfigJson,
  type FaultPlan,
  type PendingConfirm,
  type VyosFaults,
  type VyosRouterHandle,
  type VyosRouterSpec,
  type VyosVersion,
} from './types.ts';

/** One `/configure` command after envelope parsing. */
export interface ConfigureOp {
  op: string;
  path: string[];
  value?: string;
}

/** One `/configure-section` command. */
export interface SectionOp {
  op: string;
  path?: string[];
  section?: unknown;
  mask?: unknown;
  config?: unknown;
}

/** Release train names `show version` prints. */
const trainNames: Record<VyosVersion, string> = { '1.4': 'sagitta', '1.5': 'current' };

const lockedText = 'Configuration system temporarily locked due to another commit in progress';
const selfConfigText = 'Requested HTTP API server configuration change; commit will be called in the background';

class Faults implements VyosFaults {
  current: FaultPlan = {};
  set(plan: FaultPlan): void {
    this.current = { ...this.current, ...plan };
  }
  reset(): void {
    this.current = {};
  }
  /** Consumes one unit of a counted fault; true when it applies to this call. */
  take(kind: 'hangRequests' | 'fail5xx' | 'lockedCommits'): boolean {
    const n = this.current[kind] ?? 0;
    if (n <= 0) return false;
    this.current = { ...this.current, [kind]: n - 1 };
    return true;
  }
}

/** Wall-clock sleep that ends early (rejecting) when the router closes. */
function sleepUnlessClosed(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('router closed'));
    const onAbort = () => (clearTimeout(timer), reject(new Error('router closed')));
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function subtreeEqual(a: ConfigNode | undefined, b: ConfigNode | undefined): boolean {
  if (!a || !b) return a === b;
  return JSON.stringify(renderCommands(a)) === JSON.stringify(renderCommands(b)) && a.isEmpty() === b.isEmpty();
}

/** Puts `source`'s subtree at `path` into `target` (or removes it there when absent in source). */
function graft(target: ConfigNode, source: ConfigNode, path: string[]): void {
  const from = source.get(path);
  if (!from) {
    const chain: ConfigNode[] = [target];
    for (const w of path) {
      const next = chain[chain.length - 1]!.children.get(w);
      if (!next) return;
      chain.push(next);
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const parent = chain[i]!;
      parent.children.delete(path[i]!);
      if (i === 0 || !parent.isEmpty()) break;
    }
    return;
  }
  let t = target;
  let s = source;
  path.forEach((w, i) => {
    s = s.children.get(w)!;
    if (i === path.length - 1) {
      t.children.set(w, s.clone());
      return;
    }
    let next = t.children.get(w);
    if (!next) {
      next = new ConfigNode();
      next.tag = s.tag;
      t.children.set(w, next);
    }
    t = next;
  });
}

export class EmulatedRouter implements VyosRouterHandle {
  readonly name: string;
  readonly version: VyosVersion;
  /** What this router's image offers over the API (commit-confirm, `/info`). */
  readonly features: ImageFeatures;
  readonly hostname: string;
  url = '';
  readonly faults = new Faults();
  /** Wall-clock ms until which the API server is restarting (see `VyosRouterSpec.apiRestartMs`). */
  private apiRestartUntil = 0;
  private readonly apiRestartMs: number;
  readonly schema: SchemaNode;
  private running = new ConfigNode();
  /** `/config/config.boot` and other saved files, as trees. */
  private readonly files = new Map<string, ConfigNode>();
  private rev = 0;
  private readonly listeners = new Set<(e: CommitEvent) => void>();
  private pending: (PendingConfirm & { abort: AbortController; revertTo: ConfigNode }) | undefined;
  private readonly counts: Record<string, number> = {};
  private readonly commitLog: { revision: number; at: number; reason: CommitReason }[] = [];
  /** The tail of the configuration-request queue (the API's one global lock). */
  private configQueue: Promise<unknown> = Promise.resolve();
  /** Aborted by close(): a slow commit still sleeping gives up with the lab. */
  private readonly closing = new AbortController();
  readonly bootTime: number;
  private wireguardStatus: ((iface: string) => ReadonlyMap<string, boolean>) | undefined;
  /** This router's BGP RIB as the lab computes it across its routers (lab/vyos/bgp.ts); none: no peers. */
  private bgpRib: (() => BgpRib | undefined) | undefined;
  private ipsecStatus: (() => ReadonlyMap<string, IpsecSaView>) | undefined;
  /** When each established SA came up (`peer|remote|proposal` → ms): its uptime. */
  private readonly ipsecSince = new Map<string, number>();
  /** Latest handshake per `iface|peer` (ms), as the kernel keeps it. */
  private readonly handshakes = new Map<string, number>();
  /** When each key-pair session (interface key and peer key) first came up. */
  private readonly sessions = new Map<string, number>();

  constructor(
    spec: VyosRouterSpec,
    private readonly clock: Clock,
  ) {
    this.name = spec.name;
    this.version = spec.version;
    this.features = imageFeatures(spec.version, spec.image);
    this.hostname = spec.hostname ?? spec.name;
    this.apiRestartMs = spec.apiRestartMs ?? 0;
    this.schema = schemaFor(spec.version);
    this.bootTime = clock.now();
    const seed = [
      ...(spec.seed ?? []),
      `set service https api keys id pathpilot key '${spec.apiKey}'`,
      ...(spec.version === '1.5' ? ['set service https api rest'] : []),
      ...(spec.strict ? [spec.version === '1.5' ? 'set service https api rest strict' : 'set service https api strict'] : []),
    ];
    this.applyCommands(seed, 'local');
    this.files.set('/config/config.boot', this.running.clone());
  }

  get apiKey(): string {
    return this.apiKeys()[0] ?? '';
  }

  get image(): string {
    return this.features.image;
  }

  /**
   * Runs one configuration request behind the ones before it (VyOS serialises them under one global
   * lock). With `commits`, the `slowCommitMs` fault first holds the lock that long (wall time), as a
   * real commit of QoS or firewall does; the request's effect lands at the end, answered or not.
   */
  serializeConfig<T>(commits: boolean, request: () => T): Promise<T> {
    const run = async (): Promise<T> => {
      const slowMs = commits ? (this.faults.current.slowCommitMs ?? 0) : 0;
      if (slowMs > 0) await sleepUnlessClosed(slowMs, this.closing.signal);
      return request();
    };
    const result = this.configQueue.then(run, run);
    this.configQueue = result.catch(() => undefined);
    return result;
  }

  // ---- in-process handle -------------------------------------------------------------------

  showConfig(path: string[] = []): ConfigJson {
    return this.showConfigOf(this.running, path);
  }

  private showConfigOf(root: ConfigNode, path: string[]): ConfigJson {
    if (path.length > 0 && !this.validReadPath(path)) throw new VyosConfigError('Specified configuration path is not valid');
    const node = root.get(path);
    if (!node) throw new VyosConfigError('Configuration under specified path is empty');
    if (node.values !== undefined) {
      // showConfig on a leaf: vyos renders the leaf's own value(s) under its name.
      const last = path[path.length - 1]!;
      return { [last]: node.values.length === 0 ? {} : node.values.length === 1 ? node.values[0]! : [...node.values] };
    }
    return renderJson(node);
  }

  private validReadPath(path: string[]): boolean {
    if (lookupSchema(this.schema, path)) return true;
    // A leaf followed by one of its values is a valid path for exists/showConfig.
    const parent = lookupSchema(this.schema, path.slice(0, -1));
    return parent?.schema.kind === 'leaf' && !parent.schema.valueless;
  }

  returnValue(path: string[]): string | null {
    const n = this.running.get(path);
    return n?.values?.[0] ?? null;
  }

  returnValues(path: string[]): string[] {
    return [...(this.running.get(path)?.values ?? [])];
  }

  exists(path: string[]): boolean {
    if (this.running.get(path)) return true;
    const leaf = this.running.get(path.slice(0, -1));
    return path.length > 0 && leaf?.values?.includes(path[path.length - 1]!) === true;
  }

  runningCommands(path: string[] = []): string[] {
    const node = this.running.get(path);
    return node ? renderCommands(node, path) : [];
  }

  revision(): number {
    return this.rev;
  }

  onCommit(listener: (event: CommitEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pendingConfirm(): PendingConfirm | undefined {
    return this.pending ? { deadline: this.pending.deadline, minutes: this.pending.minutes } : undefined;
  }

  applyCommands(lines: string[], reason: CommitReason = 'local'): void {
    const ops: ConfigureOp[] = lines
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const words = splitCommand(l);
        const op = words.shift() ?? '';
        return { op, path: words };
      });
    this.configure(ops, { reason, local: true });
  }

  requestCounts(): Record<string, number> {
    return { ...this.counts };
  }

  countRequest(endpoint: string): void {
    this.counts[endpoint] = (this.counts[endpoint] ?? 0) + 1;
  }

  /** Keys accepted by the API (from the running config, like the real server). */
  apiKeys(): string[] {
    const ids = this.running.get(['service', 'https', 'api', 'keys', 'id']);
    if (!ids) return [];
    return [...ids.children.values()].map((n) => n.get(['key'])?.values?.[0]).filter((k): k is string => !!k);
  }

  /** True while the API server restarts after a `service https` commit (nginx answers 502). */
  apiRestarting(): boolean {
    return Date.now() < this.apiRestartUntil;
  }

  /** 1.4: REST is on when `service https api` exists; 1.5 also needs `api rest`. */
  apiEnabled(): boolean {
    return this.version === '1.5'
      ? this.running.get(['service', 'https', 'api', 'rest']) !== undefined
      : this.running.get(['service', 'https', 'api']) !== undefined;
  }

  strict(): boolean {
    const path = this.version === '1.5' ? ['service', 'https', 'api', 'rest', 'strict'] : ['service', 'https', 'api', 'strict'];
    return this.running.get(path) !== undefined;
  }

  // ---- configuration session ---------------------------------------------------------------

  /**
   * `/configure`: runs the ops in order against a candidate; the first failing op discards
   * everything; otherwise one commit. Returns the `data` of the success envelope.
   */
  configure(ops: ConfigureOp[], opts: { reason?: CommitReason; confirmMinutes?: number; local?: boolean } = {}): string | null {
    const candidate = this.running.clone();
    const strict = !opts.local && this.strict();
    for (const c of ops) {
      const words = c.value !== undefined ? [...c.path, c.value] : c.path;
      if (c.op === 'set') {
        applySet(candidate, resolvePath(this.schema, words, 'Set'));
      } else if (c.op === 'delete') {
        const r = resolvePath(this.schema, words, 'Delete');
        const deleted = applyDelete(candidate, r);
        if (!deleted && strict) throw new VyosConfigError(`Cannot delete [${words.join(' ')}]: path/value does not exist`);
      } else if (c.op === 'comment') {
        const target = candidate.get(c.path.slice(0, c.value !== undefined ? undefined : -1));
        if (!target) throw new VyosConfigError('The specified config node does not exist\nComment failed\n');
        target.comment = c.value ?? c.path[c.path.length - 1];
      } else {
        throw new VyosConfigError(`'${c.op}' is not a valid operation`);
      }
    }
    return this.commitWithConfirm(candidate, opts.reason ?? 'configure', opts.confirmMinutes, opts.local === true);
  }

  /** `/configure-section`: `set` merges the section at path, `load` replaces the subtree. */
  configureSection(cmds: SectionOp[], confirmMinutes?: number): string | null {
    const candidate = this.running.clone();
    for (const c of cmds) {
      if (c.op !== 'set' && c.op !== 'load') throw new VyosConfigError(`'${c.op}' is not a valid operation`);
      const sets: string[][] = [];
      const deletes: string[][] = [];
      try {
        if (c.config !== undefined || c.mask !== undefined) {
          if (c.op === 'load' && c.mask !== undefined) deletes.push(...dictToPaths(c.mask, []));
          sets.push(...dictToPaths(c.config ?? {}, []));
        } else {
          const path = c.path ?? [];
          if (c.op === 'load' && path.length > 0) deletes.push(path);
          sets.push(...dictToPaths(c.section ?? {}, path));
        }
      } catch (err) {
        throw new VyosConfigError(`Malformed section: ${(err as Error).message}`);
      }
      for (const d of deletes) {
        if (d.length === 0) continue;
        applyDelete(candidate, resolvePath(this.schema, d, 'Delete'));
      }
      for (const s of sets) applySet(candidate, resolvePath(this.schema, s, 'Set'));
    }
    return this.commitWithConfirm(candidate, 'configure-section', confirmMinutes, false);
  }

  /** `/config-file save`. */
  saveConfig(file = '/config/config.boot'): string {
    this.files.set(file, this.running.clone());
    return `Saving configuration to '${file}'...\nDone\n`;
  }

  /** `/config-file load|merge` of a saved file or of inline text (`string`, 1.5). */
  loadConfig(op: 'load' | 'merge', source: { file?: string; text?: string }, confirmMinutes?: number): string | null {
    let paths: string[][];
    if (source.text !== undefined) {
      try {
        paths = parseConfigText(source.text);
      } catch (err) {
        throw new VyosConfigError(`Failed to parse config: ${(err as Error).message}`);
      }
    } else {
      const saved = this.files.get(source.file!);
      if (!saved) throw new VyosConfigError(`Failed to load file '${source.file}': No such file or directory`);
      paths = parseConfigText(renderBoot(saved));
    }
    const candidate = op === 'load' ? new ConfigNode() : this.running.clone();
    for (const p of paths) applySet(candidate, resolvePath(this.schema, p, 'Set'));
    return this.commitWithConfirm(candidate, 'config-file', confirmMinutes, false);
  }

  /** `{"op":"confirm"}` (1.5 images from June 2025; the server refuses it on others). */
  confirm(): string {
    if (!this.pending) return 'No confirm pending\n';
    this.pending.abort.abort();
    this.pending = undefined;
    return 'Reload timer stopped\n';
  }

  private commitWithConfirm(
    candidate: ConfigNode,
    reason: CommitReason,
    minutes: number | undefined,
    local: boolean,
  ): string | null {
    // An image without commit-confirm has no `confirm_time` field: the value is dropped unread.
    const arming = minutes !== undefined && minutes > 0 && this.features.commitConfirm;
    if (arming && this.pending) throw new VyosConfigError('Another confirm is pending');
    const before = this.running.clone();
    const selfConfig = !local && !subtreeEqual(this.running.get(['service', 'https']), candidate.get(['service', 'https']));
    let data: string | null;
    if (selfConfig) {
      // Upstream commits in a background task and answers at once; a failure there is only logged.
      try {
        this.commit(candidate, reason, local);
      } catch {
        // Discarded like call_commit() does.
      }
      data = selfConfigText;
      // The API server reloads after the answer (wall time: it is the process, not the lab's clock).
      if (this.apiRestartMs > 0) this.apiRestartUntil = Date.now() + this.apiRestartMs;
    } else {
      data = this.commit(candidate, reason, local);
    }
    if (!arming) return data;
    const action = this.running.get(['system', 'config-management', 'commit-confirm', 'action'])?.values?.[0] ?? 'reboot';
    const abort = new AbortController();
    const deadline = this.clock.now() + minutes * 60_000;
    this.pending = { deadline, minutes, abort, revertTo: before };
    this.clock.sleep(minutes * 60_000, abort.signal).then(
      () => this.expireConfirm(action),
      () => undefined,
    );
    const initialized = `Initialized commit-confirm; ${minutes} minutes to confirm before ${action}\n`;
    return data ? initialized + data : initialized;
  }

  private expireConfirm(action: string): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    // `reboot` comes back with the saved config.boot (unsaved commits are lost too); `reload`
    // goes back to the config before the unconfirmed commit.
    const target = action === 'reload' ? p.revertTo : (this.files.get('/config/config.boot') ?? p.revertTo);
    const changed = this.changedSubsystems(this.running, target);
    this.running = target.clone();
    this.bump('confirm-revert', changed);
  }

  private changedSubsystems(from: ConfigNode, to: ConfigNode): Subsystem[] {
    const all = new Map<string, Subsystem>();
    for (const s of [...subsystemsOf(from), ...subsystemsOf(to)]) all.set(s.path.join(' '), s);
    return [...all.values()]
      .filter((s) => !subtreeEqual(from.get(s.path), to.get(s.path)))
      .sort((a, b) => a.priority - b.priority || a.path.join(' ').localeCompare(b.path.join(' ')));
  }

  /**
   * The vyatta commit: changed subsystems in priority order, each verified against the candidate;
   * the ones that pass are committed, the ones that fail keep their running config (a partial
   * commit), and any failure is reported as `… Commit failed`.
   */
  private commit(candidate: ConfigNode, reason: CommitReason, local: boolean): string | null {
    if (!local && this.faults.take('lockedCommits')) throw new VyosConfigError(lockedText);
    const changed = this.changedSubsystems(this.running, candidate);
    if (changed.length === 0) return null;
    const partial = local ? undefined : this.faults.current.partialCommit;
    if (partial) this.faults.set({ partialCommit: undefined });
    const result = this.running.clone();
    const failures: string[] = [];
    const committed: Subsystem[] = [];
    for (const sub of changed) {
      const key = sub.path.join(' ');
      let err = verifySubsystem(sub, candidate);
      if (!err && partial?.failPrefix.some((p) => key === p || key.startsWith(`${p} `) || p.startsWith(`${key} `)))
        err = partial.message ?? 'Emulated failure (fault injection)';
      if (err) failures.push(commitFailureText(sub.path, err));
      else {
        graft(result, candidate, sub.path);
        committed.push(sub);
      }
    }
    if (committed.length > 0) {
      this.running = result;
      this.bump(reason, committed);
    }
    if (failures.length > 0) throw new VyosConfigError(`${failures.join('')}Commit failed\n`);
    return null;
  }

  private bump(reason: CommitReason, changed: Subsystem[]): void {
    this.rev++;
    const at = this.clock.now();
    this.commitLog.push({ revision: this.rev, at, reason });
    if (this.commitLog.length > 100) this.commitLog.shift();
    const event: CommitEvent = {
      router: this.name,
      at,
      revision: this.rev,
      reason,
      commands: renderCommands(this.running),
      changed: changed.map((s) => s.path),
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure must not undo or block the commit.
      }
    }
  }

  /** Cancels a pending confirm timer (lab shutdown). */
  close(): void {
    this.pending?.abort.abort();
    this.pending = undefined;
    this.closing.abort();
  }

  // ---- reads over the API ------------------------------------------------------------------

  retrieve(op: string, path: string[], format: string): unknown {
    if (op === 'showConfig') {
      // The path is read first, so an empty or invalid path wins over a bad format (as upstream).
      const json = this.showConfig(path);
      if (format === 'raw') return renderBoot(this.running.get(path)!);
      if (format !== 'json' && format !== 'json_ast') throw new VyosConfigError(`'${format}' is not a valid config format`);
      return json;
    }
    if (op === 'returnValue') return this.returnValue(path);
    if (op === 'returnValues') return this.returnValues(path);
    if (op === 'exists') return this.exists(path);
    throw new VyosConfigError(`'${op}' is not a valid operation`);
  }

  // ---- op mode -----------------------------------------------------------------------------

  generate(path: string[]): string {
    const cmd = path.join(' ');
    if (cmd === 'pki wireguard key-pair') {
      const k = wireguardKeyPair();
      return `Private key: ${k.privateKey}\nPublic key: ${k.publicKey}\n\n`;
    }
    if (cmd === 'pki wireguard preshared-key') return `Pre-shared key: ${randomBytes(32).toString('base64')}\n`;
    throw new VyosConfigError(`Invalid command: generate [${cmd}]\n`);
  }

  show(path: string[]): string {
    const cmd = path.join(' ');
    if (cmd === 'version') return this.showVersion();
    if (cmd === 'configuration commands') return renderCommands(this.running).join('\n') + '\n';
    if (cmd === 'configuration') return renderBoot(this.running);
    if (cmd === 'configuration json') return JSON.stringify(this.showConfig([]));
    if (cmd === 'interfaces') return this.showInterfaces();
    if (cmd === 'system commit') return this.showCommits();
    if (cmd === 'load-balancing wan' || cmd === 'wan-load-balance' || cmd === 'wan-load-balance status') return this.showWan();
    if (cmd === 'ip route' || cmd === 'ip route static') return this.showRoutes();
    if (cmd === 'vpn ipsec sa') return this.showIpsecSa();
    if (cmd === 'ip bgp' || cmd === 'ip bgp summary') return this.showBgp(cmd === 'ip bgp summary');
    const summary = /^interfaces wireguard (wg\d+) summary$/.exec(cmd);
    if (summary) return this.showWireguardSummary(summary[1]!);
    const wg = /^interfaces wireguard (wg\d+) public-key$/.exec(cmd);
    if (wg) {
      const priv = this.returnValue(['interfaces', 'wireguard', wg[1]!, 'private-key']);
      const pub = priv ? wireguardPublicKey(priv) : undefined;
      if (!pub) throw new VyosConfigError(`Interface "${wg[1]}" does not exist or has no private key\n`);
      return `${pub}\n`;
    }
    throw new VyosConfigError(`Invalid command: show [${cmd}]\n`);
  }

  /** Where `show ip bgp` reads the RIB (the lab sets it for every router it runs). */
  setBgpRib(rib: () => BgpRib | undefined): void {
    this.bgpRib = rib;
  }

  /** `show ip bgp [summary]` as FRR prints them (vtysh through VyOS's op mode). */
  private showBgp(summary: boolean): string {
    const asn = this.returnValue(['protocols', 'bgp', 'system-as']);
    if (!asn) return '% BGP instance not found\n';
    const rib = this.bgpRib?.();
    const routerId = this.returnValue(['protocols', 'bgp', 'parameters', 'router-id']) ?? '0.0.0.0';
    if (!summary) return showIpBgp(rib, routerId, Number(asn));
    const lines = [
      `IPv4 Unicast Summary (VRF default):`,
      `BGP router identifier ${routerId}, local AS number ${asn} vrf-id 0`,
      '',
      'Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc',
    ];
    for (const s of rib?.sessions ?? []) {
      const remote = this.returnValue(['protocols', 'bgp', 'neighbor', s.neighbor, 'remote-as']) ?? '?';
      const state = s.up ? String(s.received) : s.reason === 'shut down' ? 'Idle (Admin)' : 'Active';
      lines.push(
        `${s.neighbor.padEnd(16)}4 ${remote.padStart(10)}         0         0        0    0    0    never ${state.padStart(12)}        0 N/A`,
      );
    }
    lines.push('', `Total number of neighbors ${rib?.sessions.length ?? 0}`);
    return lines.join('\n') + '\n';
  }

  /**
   * Which peers of each WireGuard interface have a live tunnel (peer alias → up), as the lab computes it
   * across routers (lab/vyos/wireguard-tunnels.ts); without one, no peer ever completes a handshake.
   */
  setWireguardStatus(status: (iface: string) => ReadonlyMap<string, boolean>): void {
    this.wireguardStatus = status;
  }

  /**
   * `show interfaces wireguard wgN summary` as vyos-1x prints it (python/vyos/ifconfig/wireguard.py
   * `show_interface`): per peer the latest handshake (h:mm:ss ago) and `active` within 5 minutes. A live
   * tunnel re-handshakes every 2 minutes (WireGuard's REKEY_AFTER_TIME), so its handshake is under 2
   * minutes old; a dead one keeps the time of its last handshake, which ages until it reads inactive. A
   * new key on either end handshakes at once (what a rotation verifies).
   */
  private showWireguardSummary(iface: string): string {
    const base = ['interfaces', 'wireguard', iface];
    if (!this.exists(base)) throw new VyosConfigError(`WireGuard interface ${iface} is not configured\n`);
    const now = this.clock.now();
    const priv = this.returnValue([...base, 'private-key']);
    const up = this.wireguardStatus?.(iface) ?? new Map<string, boolean>();
    const lines = [`interface: ${iface}`];
    const description = this.returnValue([...base, 'description']);
    if (description) lines.push(`  description: ${description}`);
    const addresses = this.returnValues([...base, 'address']);
    if (addresses.length) lines.push(`  address: ${addresses.join(', ')}`);
    lines.push(`  public key: ${(priv && wireguardPublicKey(priv)) ?? '(none)'}`, '  private key: (hidden)');
    lines.push(`  listening port: ${this.returnValue([...base, 'port']) ?? '(random)'}`, '');
    const ago = (ms: number) => {
      const s = Math.max(0, Math.floor(ms / 1000));
      const days = Math.floor(s / 86400);
      const hms = `${Math.floor((s % 86400) / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
      return days > 0 ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
    };
    const peers = this.exists([...base, 'peer']) ? Object.keys(this.showConfig([...base, 'peer'])) : [];
    for (const peer of peers) {
      const p = [...base, 'peer', peer];
      // A handshake is between two key pairs: a new key on either side starts a new session now, which
      // then re-handshakes every 2 minutes; a dead session keeps its last time.
      const session = `${iface}|${peer}|${priv}|${this.returnValue([...p, 'public-key'])}`;
      if (up.get(peer)) {
        const first = this.sessions.get(session) ?? now;
        this.sessions.set(session, first);
        this.handshakes.set(`${iface}|${peer}`, now - ((now - first) % 120_000));
      }
      const last = this.handshakes.get(`${iface}|${peer}`);
      lines.push(`  peer: ${peer}`, `    public key: ${this.returnValue([...p, 'public-key']) ?? ''}`);
      if (last !== undefined)
        lines.push(`    latest handshake: ${ago(now - last)}`, `    status: ${now - last < 300_000 ? 'active' : 'inactive'}`);
      const address = this.returnValue([...p, 'address']);
      if (address) lines.push(`    endpoint: ${address}:${this.returnValue([...p, 'port'])}`);
      lines.push(`    allowed ips: ${this.returnValues([...p, 'allowed-ips']).join(', ')}`);
      const keepalive = this.returnValue([...p, 'persistent-keepalive']);
      if (keepalive) lines.push(`    persistent keepalive: every ${keepalive} seconds`);
      lines.push('');
    }
    return lines.join('\n') + '\n';
  }

  /**
   * The established IPsec SAs of this router's site-to-site peers, as the lab computes them across routers
   * (lab/vyos/ipsec-tunnels.ts); without a hook, none ever establishes.
   */
  setIpsecStatus(status: () => ReadonlyMap<string, IpsecSaView>): void {
    this.ipsecStatus = status;
  }

  /**
   * `show vpn ipsec sa` as vyos-1x prints it (src/op_mode/ipsec.py `_get_formatted_output_sas`: strongSwan's
   * SAs through vici, one row per CHILD SA, in tabulate's plain format). Only established SAs are listed:
   * a peer whose SA is gone has no row.
   */
  private showIpsecSa(): string {
    if (!this.exists(['vpn', 'ipsec'])) throw new VyosConfigError('IPsec not initialized\n');
    const now = this.clock.now();
    const rows: string[][] = [];
    const live = new Set<string>();
    for (const [peer, sa] of this.ipsecStatus?.() ?? new Map<string, IpsecSaView>()) {
      const key = `${peer}|${sa.remoteAddress}|${sa.proposal}`;
      live.add(key);
      const since = this.ipsecSince.get(key) ?? now;
      this.ipsecSince.set(key, since);
      for (const name of sa.connections)
        rows.push([
          name,
          'up',
          humanSeconds(Math.floor((now - since) / 1000)),
          '0B/0B',
          '0/0',
          sa.remoteAddress,
          sa.remoteId,
          sa.proposal,
        ]);
    }
    for (const key of this.ipsecSince.keys()) if (!live.has(key)) this.ipsecSince.delete(key);
    rows.sort((a, b) => a[0]!.localeCompare(b[0]!, 'en', { numeric: true }));
    const headers = [
      'Connection',
      'State',
      'Uptime',
      'Bytes In/Out',
      'Packets In/Out',
      'Remote address',
      'Remote ID',
      'Proposal',
    ];
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
  }

  showVersion(): string {
    const built = (this.features.builtOn ?? new Date(this.bootTime)).toUTCString();
    return [
      `Version:          VyOS ${this.features.image}`,
      `Release train:    ${trainNames[this.version]}`,
      `Release flavor:   generic`,
      '',
      `Built by:         pathpilot lab emulator`,
      `Built on:         ${built}`,
      `Build UUID:       00000000-0000-4000-8000-000000000000`,
      `Build commit ID:  emulator`,
      '',
      `Architecture:     x86_64`,
      `Boot via:         installed image`,
      `System type:      KVM guest`,
      '',
      `Hardware vendor:  pathpilot`,
      `Hardware model:   ${this.hostname}`,
      '',
    ].join('\n');
  }

  private showInterfaces(): string {
    const lines = [
      'Codes: S - State, L - Link, u - Up, D - Down, A - Admin Down',
      'Interface    IP Address           S/L    Description',
      '-----------  -------------------  -----  -------------',
    ];
    const ifaces = this.running.get(['interfaces']);
    for (const [, byName] of [...(ifaces?.children ?? new Map<string, ConfigNode>())]) {
      for (const [name, cfg] of byName.children) {
        const addrs = cfg.get(['address'])?.values ?? [];
        const state = cfg.get(['disable']) ? 'A/D' : 'u/u';
        const desc = cfg.get(['description'])?.values?.[0] ?? '';
        const first = addrs[0] ?? '-';
        lines.push(`${name.padEnd(13)}${first.padEnd(21)}${state.padEnd(7)}${desc}`.trimEnd());
        for (const a of addrs.slice(1)) lines.push(`${''.padEnd(13)}${a}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  private showCommits(): string {
    return (
      [...this.commitLog]
        .reverse()
        .map((c, i) => `${i}   ${new Date(c.at).toISOString().replace('T', ' ').slice(0, 19)} by pathpilot via ${c.reason}`)
        .join('\n') + '\n'
    );
  }

  private showWan(): string {
    const health = this.running.get(['load-balancing', 'wan', 'interface-health']);
    if (!health) return 'WAN load balancing is not configured\n';
    const out: string[] = [];
    for (const [ifname, cfg] of health.children) {
      const target = cfg.get(['test'])?.children.values().next().value?.get(['target'])?.values?.[0] ?? '';
      out.push(
        `Interface:  ${ifname}`,
        `  Status:  active`,
        `  Last Status Change:  ${new Date(this.bootTime).toUTCString()}`,
        `  +Test:  ping  Target: ${target}`,
        `    Last Interface Success:  0s`,
        `    Last Interface Failure:  n/a`,
        `    # Interface Failure(s):  0`,
        '',
      );
    }
    return out.join('\n') + '\n';
  }

  private showRoutes(): string {
    const lines = ['Codes: K - kernel route, C - connected, S - static, > - selected route, * - FIB route', ''];
    const routes = this.running.get(['protocols', 'static', 'route']);
    for (const [prefix, cfg] of routes?.children ?? new Map<string, ConfigNode>()) {
      for (const [nh, nhCfg] of cfg.get(['next-hop'])?.children ?? new Map<string, ConfigNode>()) {
        const distance = nhCfg.get(['distance'])?.values?.[0] ?? '1';
        const via = nhCfg.get(['interface'])?.values?.[0];
        lines.push(`S>* ${prefix} [${distance}/0] via ${nh}${via ? `, ${via}` : ''}, weight 1`);
      }
      for (const [ifname] of cfg.get(['interface'])?.children ?? new Map<string, ConfigNode>()) {
        lines.push(`S>* ${prefix} [1/0] is directly connected, ${ifname}, weight 1`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
