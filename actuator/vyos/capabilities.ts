/**
 * Router capabilities, probed per router instead of assumed from `vyos_version` (vyos-facts §1.6,
 * §5.5): whether commit-confirm over the API works is a property of the image — 1.5 rolling builds
 * before June 2025 silently ignore `confirm_time` and refuse `{"op":"confirm"}` — and the timer's
 * action decides what a fired timer costs (`reboot` boots config.boot and loses unsaved commits).
 *
 * The probe: version and image from `info()` (`GET /info` where the image has it, `show version`
 * everywhere), then `{"op":"confirm"}` with nothing pending (`No confirm pending` ⇒ supported, a 400
 * ⇒ not), then `system config-management commit-confirm action` (unset ⇒ the XML default `reboot`).
 * The cache probes each router once and looks again after an error that suggests the router changed
 * under us (rebooted, reinstalled, its API reconfigured).
 */
import { PathpilotError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Gauge } from '../../core/metrics.ts';
import {
  VyosHttpError,
  VyosLockedError,
  VyosRejectedError,
  VyosUnreachableError,
  VyosUnsupportedError,
  type RouterApi,
  type VyosVersion,
} from './types.ts';

export type ConfirmAction = 'reload' | 'reboot';

export interface RouterCapabilities {
  /** Version string as the router reports it (the image: `1.5-rolling-202506020019`, `1.4.0`…). */
  version: string;
  /** The train the version string maps to. */
  train: VyosVersion;
  /** Where the version was read. */
  via: '/info' | 'show version';
  /** `confirm_time` arms a timer and `{"op":"confirm"}` stops it. */
  commitConfirm: boolean;
  /** What a fired timer does; only where commit-confirm works. */
  confirmAction?: ConfirmAction;
  /** The router's answer to the confirm probe (`No confirm pending`, or the refusal text). */
  confirmProbe: string;
  /** The probe stopped a timer somebody else had armed (an operator's commit-confirm is now confirmed). */
  stoppedForeignTimer?: boolean;
}

/** What the probe needs of a router. */
export type ProbedRouter = Pick<RouterApi, 'info' | 'confirm' | 'returnValue'>;

export const confirmActionPath = ['system', 'config-management', 'commit-confirm', 'action'];

/** True when the error is the router refusing the confirm op (no commit-confirm on this image). */
function refusesConfirm(err: unknown): err is VyosRejectedError | VyosUnsupportedError {
  if (err instanceof VyosUnsupportedError) return true;
  return err instanceof VyosRejectedError && !(err instanceof VyosLockedError) && err.status === 400;
}

/**
 * Probes one router. Sends `{"op":"confirm"}`: call it only while no timer of ours is armed on the
 * router, or the probe confirms our own unverified change.
 */
export async function probeCapabilities(api: ProbedRouter): Promise<RouterCapabilities> {
  const info = await api.info();
  const base = { version: info.version, train: info.train, via: info.via ?? 'show version' } as const;
  let answer: { confirmed: boolean; message: string };
  try {
    answer = await api.confirm();
  } catch (err) {
    if (!refusesConfirm(err)) throw err;
    const text = err instanceof VyosRejectedError ? err.vyosError.trim() : err.message;
    return { ...base, commitConfirm: false, confirmProbe: text };
  }
  const action = await api.returnValue(confirmActionPath);
  // Unset: the XML default `reboot` (vyos-facts §1.6; §4 notes a reading that may make it `reload`).
  const confirmAction: ConfirmAction = action === 'reload' ? 'reload' : 'reboot';
  return {
    ...base,
    commitConfirm: true,
    confirmAction,
    confirmProbe: answer.message,
    ...(answer.confirmed ? { stoppedForeignTimer: true } : {}),
  };
}

/** The router runs another train than pathpilot.yaml says: its ops would be rendered for the wrong syntax. */
export class RouterTrainMismatchError extends PathpilotError {
  constructor(
    readonly router: string,
    readonly configured: VyosVersion,
    readonly reported: string,
  ) {
    super(
      'PP_ERR_ROUTER_REJECTED',
      `router ${router} reports VyOS ${reported} but its site's router.vyos_version is ${configured}; fix pathpilot.yaml`,
    );
    this.name = 'RouterTrainMismatchError';
  }
}

/** Why a cached entry must be looked at again. */
type Recheck = 'version' | 'full';

/** What an error says about the router: nothing, maybe a reboot/reinstall (check the version), or a lost feature. */
export function recheckAfter(err: unknown): Recheck | undefined {
  const fromCause = err instanceof Error && err.cause !== undefined ? recheckAfter(err.cause) : undefined;
  const own = ownRecheck(err);
  return own === 'full' || fromCause === 'full' ? 'full' : (own ?? fromCause);
}

function ownRecheck(err: unknown): Recheck | undefined {
  // The image no longer knows the confirm op: it was replaced; everything is probed again.
  if (err instanceof VyosRejectedError && /'confirm' is not a valid operation/.test(err.vyosError)) return 'full';
  // Gone (rebooting?) or its API was reconfigured: reinstalled maybe; the version string tells.
  if (err instanceof VyosUnreachableError) return 'version';
  if (err instanceof VyosHttpError && (err.status === 404 || err.status === 503)) return 'version';
  return undefined;
}

export interface CapabilityCacheOptions {
  log?: Logger;
  /** `pathpilot_actuator_router_capability{router,capability}`: 1/0 per capability. */
  gauge?: Gauge<'router' | 'capability'>;
}

interface Entry {
  caps: Promise<RouterCapabilities>;
  recheck?: Recheck;
}

/** Probed capabilities per router name, probed once and looked at again after a telling error. */
export class CapabilityCache {
  private readonly known = new Map<string, Entry>();

  constructor(private readonly o: CapabilityCacheOptions = {}) {}

  /**
   * The router's capabilities, probing it the first time (and after `noteError` flagged it). Throws
   * RouterTrainMismatchError when the router's train is not the configured one. Only call while no
   * timer of ours is armed on the router (the probe sends `confirm`).
   */
  async of(router: string, api: ProbedRouter & Pick<RouterApi, 'version'>): Promise<RouterCapabilities> {
    const cached = this.known.get(router);
    const entry = cached && !cached.recheck ? cached : this.lookAgain(router, api, cached);
    const caps = await entry.caps;
    if (caps.train !== api.version) throw new RouterTrainMismatchError(router, api.version, caps.version);
    return caps;
  }

  /**
   * The answer to an armed commit says what a fired timer will do (`… before reload|reboot`); rolling
   * code of Oct 2024 always reverts softly whatever the setting (docs/notes/vyos.md, fact 30), so the
   * answer wins over the config read by the probe.
   */
  async noteArmed(router: string, answer: string | null): Promise<void> {
    const said = /before (reload|reboot)\b/.exec(answer ?? '')?.[1] as ConfirmAction | undefined;
    const entry = this.known.get(router);
    if (!said || !entry) return;
    const caps = await entry.caps.catch(() => undefined);
    if (!caps || caps.confirmAction === said) return;
    const updated: RouterCapabilities = { ...caps, confirmAction: said };
    if (this.known.get(router) === entry) this.known.set(router, { caps: Promise.resolve(updated) });
    this.report(router, updated);
  }

  /** Flags the router for another look when `err` suggests it changed; returns whether it did. */
  noteError(router: string, err: unknown): boolean {
    const entry = this.known.get(router);
    const recheck = recheckAfter(err);
    if (!entry || !recheck) return false;
    entry.recheck = entry.recheck === 'full' ? 'full' : recheck;
    this.o.log?.info({ router, recheck, err: errorMessage(err) }, 'router capabilities will be probed again');
    return true;
  }

  /** Starts a look at the router and caches it; a failed look is not remembered (the next call probes again). */
  private lookAgain(router: string, api: ProbedRouter, previous: Entry | undefined): Entry {
    const fresh: Entry = { caps: this.look(router, api, previous) };
    this.known.set(router, fresh);
    fresh.caps.catch(() => {
      if (this.known.get(router) === fresh) this.known.delete(router);
    });
    return fresh;
  }

  private async look(router: string, api: ProbedRouter, previous: Entry | undefined): Promise<RouterCapabilities> {
    if (previous?.recheck === 'version') {
      const before = await previous.caps.catch(() => undefined);
      const info = await api.info();
      // Same image after a reboot or an outage: what it offers has not changed.
      if (before && info.version === before.version) return before;
    }
    const caps = await probeCapabilities(api);
    this.report(router, caps);
    return caps;
  }

  private report(router: string, caps: RouterCapabilities): void {
    const { log, gauge } = this.o;
    gauge?.set({ router, capability: 'commit_confirm' }, caps.commitConfirm ? 1 : 0);
    gauge?.set({ router, capability: 'confirm_action_reboot' }, caps.confirmAction === 'reboot' ? 1 : 0);
    const fields = {
      router,
      version: caps.version,
      via: caps.via,
      commit_confirm: caps.commitConfirm,
      ...(caps.confirmAction ? { confirm_action: caps.confirmAction } : {}),
      confirm_probe: caps.confirmProbe,
    };
    log?.info(fields, 'router capabilities probed');
    if (!caps.commitConfirm && caps.train === '1.5')
      log?.warn(fields, 'this 1.5 image has no commit-confirm over the API: rollouts use snapshot/restore only');
    if (caps.confirmAction === 'reboot')
      log?.warn(
        fields,
        'commit-confirm action is reboot: a fired timer boots config.boot and loses every unsaved commit; set system config-management commit-confirm action reload',
      );
    if (caps.stoppedForeignTimer)
      log?.warn(fields, 'the commit-confirm probe stopped a timer armed by someone else: that change is now confirmed');
  }
}
