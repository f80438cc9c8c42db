/**
 * `drift.md`, committed back beside the applied configs: per router, what its running config still differs
 * from the desired one — a change rejected, rolled back or still waiting, or one made by hand since — as the
 * `set`/`delete` lines that would bring it to the desired state (values redacted where secret; secrets and
 * kept paths are never compared). No timestamps: the same state writes the same file, so nothing is
 * committed when nothing changed (the commit carries the time).
 */
import { redactCommandLine } from '../../core/redact.ts';
import type { ConfigOp } from '../vyos/types.ts';
import type { GitCommit } from './git.ts';
import type { SubtreeDiff } from './subtrees.ts';

export interface DriftReportInput {
  /** The commit of the desired configs compared. */
  desired: GitCommit;
  /** The directory of the desired configs in the repository. */
  path: string;
  /** The proposal whose outcome this report follows, how it ended, who decided it, and why (a note, a rollback's reason). */
  proposal: { id: string; status: string; by?: string | undefined; note?: string | undefined };
  /** Proposals of the watch still open (their changes are part of the drift until applied). */
  open: { id: string; status: string }[];
  routers: { router: string; diff: SubtreeDiff }[];
  /** Paths never synced besides secrets (`keep`, `service https`). */
  kept: string[];
}

const quoted = (op: ConfigOp) => (op.value !== undefined ? ` '${op.value}'` : '');
/** One op as a configuration command, secrets redacted (GitOps files are read by anyone with the repository). */
export const opLine = (op: ConfigOp) => redactCommandLine(`${op.op} ${op.path.join(' ')}${quoted(op)}`);

export function renderDriftReport(r: DriftReportInput): string {
  const out: string[] = ['# Drift: desired against running', ''];
  out.push(`Desired: \`${r.path}/\` at ${r.desired.hash.slice(0, 12)} "${r.desired.subject}"`);
  const p = r.proposal;
  out.push(`Last change: ${p.id} ${p.status}${p.by ? `, decided by ${p.by}` : ''}${p.note ? ` (${p.note})` : ''}`);
  for (const o of r.open) out.push(`Open: ${o.id} ${o.status}`);
  for (const { router, diff } of r.routers) {
    out.push('', `## ${router}`, '');
    const lines = diff.subtrees.flatMap((s) => s.ops.map(opLine));
    if (!lines.length && !diff.unknown.length) out.push('Nothing drifts.');
    else if (!lines.length) out.push('Nothing pathpilot syncs drifts.');
    else {
      out.push(`${diff.subtrees.length} subtree(s) differ; to match the desired config, running needs:`, '');
      for (const l of lines) out.push(`    ${l}`);
    }
    if (diff.unknown.length)
      out.push('', `Differs but not synced (beyond pathpilot's VyOS schema): ${diff.unknown.map((u) => `\`${u}\``).join(', ')}`);
  }
  out.push('', `Never synced: secret leaves (keys, pre-shared keys, passwords) and ${r.kept.map((k) => `\`${k}\``).join(', ')}.`);
  return `${out.join('\n')}\n`;
}
