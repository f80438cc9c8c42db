/** What the audit trail shows of the routers around a change: the snapshots, and the touched subtrees read back. */
import { errorMessage } from '../../core/errors.ts';
import type { RolloutState } from '../engine.ts';
import type { RouterApi } from '../vyos/types.ts';

/** The snapshots of one router (by path), or of every router (by router, then path). */
export function snapshotDetail(st: RolloutState, router?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of router ? [router] : st.order) {
    out[name] = Object.fromEntries(st.routers[name]!.snapshots.map((s) => [s.path.join(' '), s.before]));
  }
  return router ? (out[router] as Record<string, unknown>) : out;
}

/** The touched subtrees of one router as it holds them now (an `error` entry when it cannot be read). */
export async function readTouched(
  routerFor: (site: string) => RouterApi,
  st: RolloutState,
  router: string,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  try {
    for (const s of st.routers[router]!.snapshots) out[s.path.join(' ')] = await routerFor(router).showConfig(s.path);
  } catch (err) {
    out['error'] = errorMessage(err);
  }
  return out;
}

export async function afterDetail(routerFor: (site: string) => RouterApi, st: RolloutState): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const router of st.order) out[router] = await readTouched(routerFor, st, router);
  return out;
}
