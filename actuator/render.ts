/**
 * Intents → desired VyOS subtrees for one router (DESIGN.md §5, vyos-facts §2.4–2.6). Each intent kind is
 * rendered by its actuation target (targets/: weights, failover, pin, shaper); this module keeps the names
 * the engine, the approvals and the tests use, and the rollout arithmetic over weight intents.
 */
import type { Intent } from '../core/proposal.ts';
import { shiftBetween, stepWeights } from './targets/index.ts';

export {
  contextPaths,
  contextsFor,
  pathsFor,
  renderRouter,
  shiftBetween,
  stepWeights,
  weightsForPrefix,
  type PreState,
  type TouchedSubtree,
} from './targets/index.ts';

/** Largest traffic shift any step moves, over every weight intent of a proposal. */
export function maxStepShift(
  intents: readonly Intent[],
  steps: readonly number[],
  preWeights: (intent: Intent & { kind: 'path-weights' }, prefix: string) => Record<string, number>,
  ifaceFor: (router: string, link: string) => string,
): number {
  let max = 0;
  for (const intent of intents) {
    if (intent.kind !== 'path-weights') continue;
    const after: Record<string, number> = {};
    for (const [link, w] of Object.entries(intent.weights)) after[ifaceFor(intent.router, link)] = w;
    for (const prefix of intent.dst_prefixes) {
      const before = preWeights(intent, prefix);
      let prev = before;
      for (const f of steps) {
        const w = stepWeights(before, after, f);
        if (Object.keys(prev).length > 0) max = Math.max(max, shiftBetween(prev, w));
        prev = w;
      }
    }
  }
  return max;
}
