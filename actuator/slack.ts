/**
 * Slack: an incoming-webhook message per proposal (Block Kit: summary, predicted effect, risk,
 * Approve/Reject buttons) and a follow-up once its realized effect is measured, verification of interactivity requests (HMAC-SHA256 over
 * `v0:<timestamp>:<raw body>`, 5-minute window, constant-time compare) and message updates through
 * the interaction's `response_url`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request } from 'undici';
import type { Proposal } from '../core/proposal.ts';

export const slackWindowS = 300;

/** True when the signature matches and the timestamp is within 5 minutes of `nowMs`. */
/** The level that decides the approvals: the actuator's assessment, with the stated one when they differ. */
function riskText(p: Proposal): string {
  const a = p.assessment;
  if (!a) return p.risk;
  const approvers = a.approvals_required > 1 ? ` (needs ${a.approvals_required} approvers)` : '';
  return a.level === p.risk ? `${a.level}${approvers}` : `${a.level} (stated ${p.risk})${approvers}`;
}

export function verifySlackSignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: string,
  nowMs: number,
): { ok: true } | { ok: false; reason: string } {
  const ts = headers.timestamp;
  const sig = headers.signature;
  if (!ts || !sig) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d+$/.test(ts)) return { ok: false, reason: 'bad timestamp' };
  if (Math.abs(nowMs / 1000 - Number(ts)) > slackWindowS) return { ok: false, reason: 'timestamp outside the 5-minute window' };
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${ts}:${rawBody}`).digest('hex')}`);
  const got = Buffer.from(sig);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}

export function signSlackBody(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

type Block = Record<string, unknown>;

function effect(p: Proposal): string {
  const parts: string[] = [];
  const before = p.predicted.cost_per_day_before;
  parts.push(
    before !== undefined
      ? `cost/day ${before.toFixed(2)} → ${p.predicted.cost_per_day.toFixed(2)}`
      : `cost/day ${p.predicted.cost_per_day.toFixed(2)}`,
  );
  const rtt = Object.entries(p.predicted.rtt_p95_ms)
    .slice(0, 4)
    .map(([k, v]) => `${k} ${v.toFixed(0)} ms`);
  if (rtt.length) parts.push(`p95 RTT ${rtt.join(', ')}`);
  parts.push(`max utilization ${(p.predicted.max_utilization * 100).toFixed(0)}%`);
  parts.push(`SLO risk ${(p.predicted.slo_risk * 100).toFixed(0)}%`);
  return parts.join(' · ');
}

/** The Block Kit message for a proposal; `decided` replaces the buttons with the outcome. */
export function proposalBlocks(
  p: Proposal,
  decided?: { status: string; actor?: string; note?: string },
): { text: string; blocks: Block[] } {
  const title = `${p.emergency ? ':rotating_light: Emergency ' : ''}${p.kind} proposal ${p.id}`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Summary:* ${p.reason}` } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Predicted effect:*\n${effect(p)}` },
        { type: 'mrkdwn', text: `*Risk:* ${riskText(p)}` },
        { type: 'mrkdwn', text: `*Routers:* ${[...new Set(p.intents.map((i) => i.router))].join(', ')}` },
        { type: 'mrkdwn', text: `*Intents:* ${p.intents.length}` },
      ],
    },
  ];
  if (p.assessment)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Pre-change assessment:* ${p.assessment.reasons.join('; ')}${
          p.assessment.cut.length
            ? `\n*Would cut:* ${p.assessment.cut
                .slice(0, 5)
                .map((c) => `${c.router} ${c.flow}`)
                .join(', ')}`
            : ''
        }`.slice(0, 3000),
      },
    });
  if (decided) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `*${decided.status}*${decided.actor ? ` by ${decided.actor}` : ''}${decided.note ? ` — ${decided.note}` : ''}`,
        },
      ],
    });
  } else {
    blocks.push({
      type: 'actions',
      block_id: `proposal:${p.id}`,
      elements: [
        { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: p.id },
        { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: p.id },
      ],
    });
  }
  return { text: `${title}: ${p.reason}`, blocks };
}

/**
 * The follow-up once an applied proposal's realized effect is measured (actuator/realized.ts): what was
 * promised beside what the network did, so the channel that approved it sees whether it came true.
 */
export function realizedBlocks(p: Proposal): { text: string; blocks: Block[] } | undefined {
  const r = p.realized;
  if (!r) return undefined;
  const pct = (a: number, b: number) => (b > 0 ? ` (${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)}%)` : '');
  const predictedBefore = p.predicted.cost_per_day_before;
  const windowMs = r.after.to - r.after.from;
  const span = windowMs % 3_600_000 === 0 ? `${windowMs / 3_600_000} h` : `${windowMs / 60_000} min`;
  const title = `Realized effect of ${p.kind} proposal ${p.id}`;
  const costLine = `predicted ${predictedBefore !== undefined ? `${predictedBefore.toFixed(2)} → ` : ''}${p.predicted.cost_per_day.toFixed(2)} · realized ${r.cost_per_day_before.toFixed(2)} → ${r.cost_per_day.toFixed(2)}${pct(r.cost_per_day, r.cost_per_day_before)}`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Network cost/day:*\n${costLine}` },
        { type: 'mrkdwn', text: `*SLO pair-class minutes:*\n${r.slo_pair_class_minutes_before} → ${r.slo_pair_class_minutes}` },
        {
          type: 'mrkdwn',
          text: `*Traffic GB/day:*\n${r.gb_per_day_before.toFixed(1)} → ${r.gb_per_day.toFixed(1)}${pct(r.gb_per_day, r.gb_per_day_before)}`,
        },
        { type: 'mrkdwn', text: `*Predicted SLO risk:* ${(p.predicted.slo_risk * 100).toFixed(0)}%` },
      ],
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Measured over ${span} after the change was confirmed against ${span} before its apply started`,
        },
      ],
    },
  ];
  return {
    text: `${title}: cost/day ${costLine}; SLO pair-class minutes ${r.slo_pair_class_minutes_before} → ${r.slo_pair_class_minutes}`,
    blocks,
  };
}

export interface SlackInteraction {
  action: 'approve' | 'reject';
  proposalId: string;
  /** Display name for the audit trail (username, name, else the id). */
  user: string;
  /** Slack user id (`U…`/`W…`): what roles are mapped by. Absent ids map to no role. */
  userId?: string;
  responseUrl?: string;
}

/** Parses the `payload` field of a block_actions interaction; undefined when it is not one of ours. */
export function parseInteraction(rawBody: string): SlackInteraction | undefined {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (!payload) return undefined;
  let p: unknown;
  try {
    p = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const o = p as {
    type?: string;
    user?: { id?: string; username?: string; name?: string };
    actions?: { action_id?: string; value?: string }[];
    response_url?: string;
  };
  const a = o.actions?.[0];
  if (o.type !== 'block_actions' || !a || (a.action_id !== 'approve' && a.action_id !== 'reject') || !a.value) return undefined;
  const user = o.user?.username ?? o.user?.name ?? o.user?.id ?? 'unknown';
  return {
    action: a.action_id,
    proposalId: a.value,
    user,
    ...(typeof o.user?.id === 'string' ? { userId: o.user.id } : {}),
    ...(typeof o.response_url === 'string' ? { responseUrl: o.response_url } : {}),
  };
}

/** Posts JSON to a Slack URL (webhook or response_url); throws on a non-2xx answer. */
export async function postSlack(url: string, body: unknown, timeoutMs = 5000): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300)
    throw new Error(`slack answered HTTP ${res.statusCode}: ${text.slice(0, 100)}`);
}
