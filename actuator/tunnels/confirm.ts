/**
 * Commit-confirm for a tunnel change set spanning several routers: armed only where the router's probe
 * shows it works (actuator/vyos/capabilities.ts — a 1.5 image before June 2025 ignores `confirm_time` and
 * refuses `confirm`; 1.4 has none), the way the rollout engine decides it. Probe before arming anything:
 * the probe itself sends `confirm`.
 */
import { probeCapabilities } from '../vyos/capabilities.ts';
import type { ConfigureOptions, RouterApi } from '../vyos/types.ts';

export interface ChangeSetConfirm {
  /** The options of a commit on `api` (a timer only where the router has commit-confirm). */
  options(api: RouterApi): ConfigureOptions;
  /** Stops the timer armed on `api`, if any (after verification, or to keep a restore). */
  confirm(api: RouterApi): Promise<void>;
}

export async function changeSetConfirm(apis: readonly RouterApi[], minutes: number | undefined): Promise<ChangeSetConfirm> {
  const armed = new Set<RouterApi>();
  if (minutes && minutes > 0) for (const api of new Set(apis)) if ((await probeCapabilities(api)).commitConfirm) armed.add(api);
  return {
    options: (api) => (armed.has(api) ? { confirmTime: minutes! } : {}),
    confirm: async (api) => {
      if (armed.has(api)) await api.confirm();
    },
  };
}
