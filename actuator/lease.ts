/**
 * The rollout lease: one actuator at a time drives (or resumes) a proposal's rollout.
 *
 * `RolloutLease.acquire()` takes the proposal's lease from the state store (Redis `SET NX PX`, see
 * state.ts and core/lease.ts) together with a fencing token, a number greater than every token handed
 * out before it. While the rollout runs, a timer renews the lease (compare-and-set on the token), and
 * every router write goes through `check()` first (see `fenceRouter`): the token must still be the one
 * the store holds. A lease that is lost — taken over after expiry or by a newer leader, or not renewable
 * before its deadline because the store is unreachable — aborts `signal` and makes every later `check()`
 * throw `LeaseLostError`, so the rollout stops without touching a router or writing its record again.
 *
 * The lease itself (renewal, local deadline, backoff while the store is down) is core/lease.ts's
 * `HeldLease`; the actuator's leadership (core/leader.ts) is one too, and fences every router write
 * of the actuator on top of the rollout's token.
 */
import { HeldLease, LeaseLostError, type LeaseOptions, type LeaseStore } from '../core/lease.ts';
import type { ConfigJson, ConfigOp, ConfigureOptions, ConfirmResult, RouterApi } from './vyos/types.ts';

export { isLeaseLost, LeaseLostError, type LeaseOptions, type LeaseStore } from '../core/lease.ts';

/** The rollout lease of a proposal was lost: the rollout stops and touches nothing more. */
export class RolloutLeaseLostError extends LeaseLostError {
  constructor(
    readonly proposalId: string,
    reason: string,
  ) {
    super(proposalId, reason, `rollout lease of ${proposalId}`);
  }
}

export class RolloutLease extends HeldLease {
  private constructor(store: LeaseStore, proposalId: string, token: number, o: LeaseOptions, takenAt: number) {
    super(store, proposalId, token, o, takenAt, `rollout lease of ${proposalId}`);
  }

  /** Takes the lease of a proposal's rollout; undefined when another actuator holds it. */
  static override acquire(store: LeaseStore, proposalId: string, o: LeaseOptions): Promise<RolloutLease | undefined> {
    return HeldLease.take(store, proposalId, o, (token, takenAt) => new RolloutLease(store, proposalId, token, o, takenAt));
  }

  get proposalId(): string {
    return this.id;
  }

  override lostError(): RolloutLeaseLostError {
    return new RolloutLeaseLostError(this.proposalId, this.reason ?? 'released');
  }
}

/**
 * The router with every write (configure, confirm, section/file loads, save) behind `fence`:
 * reads pass straight through, a write is sent only after the lease check passed.
 */
export function fenceRouter(api: RouterApi, fence: () => Promise<void>): RouterApi {
  return {
    get url() {
      return api.url;
    },
    get version() {
      return api.version;
    },
    showConfig: (path?: string[]) => api.showConfig(path),
    returnValue: (path: string[]) => api.returnValue(path),
    returnValues: (path: string[]) => api.returnValues(path),
    exists: (path: string[]) => api.exists(path),
    show: (path: string[]) => api.show(path),
    info: () => api.info(),
    generateWireguardKeypair: async () => {
      await fence();
      return api.generateWireguardKeypair();
    },
    configure: async (ops: ConfigOp[], options?: ConfigureOptions) => {
      await fence();
      return api.configure(ops, options);
    },
    confirm: async (): Promise<ConfirmResult> => {
      await fence();
      return api.confirm();
    },
    configureSection: async (path: string[], section: ConfigJson, mode: 'set' | 'load', options?: ConfigureOptions) => {
      await fence();
      return api.configureSection(path, section, mode, options);
    },
    saveConfig: async (file?: string) => {
      await fence();
      return api.saveConfig(file);
    },
    loadConfigFile: async (file: string, options?: ConfigureOptions) => {
      await fence();
      return api.loadConfigFile(file, options);
    },
  };
}
