/**
 * The effect check of targets that own whole subtrees (IPsec peers, OpenVPN tunnels): each subtree's keys
 * as the router holds them (values compared as VyOS orders them: `diff.ts` `sameConfig`).
 */
import { sameConfig } from '../vyos/diff.ts';
import type { ConfigJson } from '../vyos/types.ts';
import { subtree } from './types.ts';

/**
 * What a router's config lacks of whole subtrees a target owns (null: must be absent), one sentence each;
 * each subtree is named by `label(path)`. `exact`: what the router holds beyond `desired` is a problem too
 * (a subtree set whole, not merged into).
 */
export function subtreeProblems(
  subtrees: readonly { path: string[]; desired: ConfigJson | null }[],
  config: ConfigJson,
  label: (path: readonly string[]) => string = (p) => p.join(' '),
  opts: { exact?: boolean } = {},
): string[] {
  const problems: string[] = [];
  for (const s of subtrees) {
    const have = subtree(config, s.path);
    const name = label(s.path);
    if (s.desired === null) {
      if (have !== null) problems.push(`${name} is still configured`);
    } else if (have === null) problems.push(`${name} is missing`);
    else {
      for (const [k, v] of Object.entries(s.desired))
        if (!sameConfig(k in have ? { [k]: have[k]! } : null, { [k]: v })) problems.push(`${name} ${k} differs`);
      if (opts.exact) for (const k of Object.keys(have)) if (!(k in s.desired)) problems.push(`${name} ${k} is not desired`);
    }
  }
  return problems;
}
