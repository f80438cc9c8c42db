/** The risk assessment's live conversations from the analytics store (flows_raw). */
import { liveFlows } from '../../analytics/queries/index.ts';
import type { Store } from '../../core/store/types.ts';
import type { RiskData } from '../pipeline/deps.ts';

export function riskDataFromStore(store: Store): RiskData {
  return { liveFlows: (q) => liveFlows(store, q) };
}
