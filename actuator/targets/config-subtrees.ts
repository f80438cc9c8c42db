/**
 * Whole config subtrees (`config-subtrees` intents, GitOps: actuator/gitops/): each listed subtree is set to
 * what the intent says, or deleted. The paths come from the intent, so the target reads them itself before the
 * change (`reads` → `PreState.paths`) rather than through a named context: what it needs from there is what a
 * write must not change — secret leaves and kept subtrees (vyos/kept.ts), put back as the router held them.
 * Each subtree is a touched subtree, so the engine's minimal diffs, snapshots, drift checks and exact rollback
 * apply unchanged. Effect: each subtree holds exactly what was desired, kept parts aside.
 */
import type { Topology } from '../../core/config/topology.ts';
import { ValidationError } from '../../core/errors.ts';
import type { ConfigSubtreesIntent } from '../../core/proposal.ts';
import { pathKey, sameConfig } from '../vyos/diff.ts';
import { isKeptPath, withKept, withoutKept } from '../vyos/kept.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtreeProblems } from './subtree-effect.ts';
import { check, subtree, type ActuationTarget } from './types.ts';

const keepOf = (i: ConfigSubtreesIntent) => i.keep ?? [];
const desiredOf = (s: ConfigSubtreesIntent['subtrees'][number]) => s.desired as ConfigJson | null;

/** A subtree that is kept whole, or inside another of the intent, cannot be written as one. */
function checkPaths(i: ConfigSubtreesIntent): void {
  const keys = i.subtrees.map((s) => pathKey(s.path));
  for (const s of i.subtrees) {
    if (isKeptPath(s.path, keepOf(i)))
      throw new ValidationError(`config-subtrees on ${i.router}: "${pathKey(s.path)}" is kept as the router holds it`);
    const inside = keys.find((k) => k !== pathKey(s.path) && pathKey(s.path).startsWith(`${k} `));
    if (inside) throw new ValidationError(`config-subtrees on ${i.router}: "${pathKey(s.path)}" lies inside "${inside}"`);
  }
}

export const configSubtreesTarget: ActuationTarget<'config-subtrees', Record<string, ConfigJson | null> | undefined> = {
  name: 'config-subtrees',
  kinds: ['config-subtrees'],
  contexts: [],
  reads: (intent) => intent.subtrees.map((s) => s.path),
  read: (pre) => pre.paths,
  render(intent, before, { touch }) {
    checkPaths(intent);
    for (const s of intent.subtrees) {
      // Not read (intake's render check against an empty config): nothing of the router's to keep.
      const was = before?.[pathKey(s.path)] ?? null;
      touch(s.path, was).desired = withKept(s.path, desiredOf(s), was, keepOf(intent));
    }
  },
  effect(intent, dataplane) {
    const keep = keepOf(intent);
    const holds = withoutKept([], dataplane.config, keep) ?? {};
    const differing = intent.subtrees.flatMap((s) => {
      const want = withoutKept(s.path, desiredOf(s), keep);
      return sameConfig(subtree(holds, s.path), want) ? [] : [{ path: s.path, desired: want }];
    });
    return check(subtreeProblems(differing, holds, undefined, { exact: true }));
  },
  cases(topology: Topology, router: string) {
    if (!topology.sites.has(router)) return [];
    const intent: ConfigSubtreesIntent = {
      kind: 'config-subtrees',
      router,
      source: 'conformance',
      subtrees: [
        { path: ['protocols', 'static', 'route', '192.0.2.0/24'], desired: { 'next-hop': { '192.0.2.1': { distance: '50' } } } },
        {
          path: ['firewall', 'ipv4', 'forward', 'filter', 'rule', '9990'],
          desired: { action: 'drop', description: 'gitops conformance', destination: { address: '192.0.2.0/24' } },
        },
      ],
    };
    return [{ name: 'a static route and a firewall rule set whole from a repository', intents: [intent] }];
  },
};
