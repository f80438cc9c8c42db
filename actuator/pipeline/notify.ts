/**
 * Slack messages about a proposal: the approval request (to the webhook), and each decision or outcome
 * (replacing the original message through its `response_url` when the decision came from Slack). A
 * failed post is logged and counted; Slack never holds up a change.
 */
import { errorMessage } from '../../core/errors.ts';
import { postSlack, proposalBlocks, realizedBlocks } from '../slack.ts';
import type { ProposalRecord } from '../state.ts';
import type { PipelineDeps } from './deps.ts';

export interface Outcome {
  status: string;
  actor?: string;
  note?: string;
}

export async function notifySlack(d: PipelineDeps, rec: ProposalRecord, decided?: Outcome): Promise<void> {
  const url = decided && rec.slack?.responseUrl ? rec.slack.responseUrl : d.slack?.webhookUrl;
  if (!url) return;
  const msg = proposalBlocks(rec.proposal, decided);
  try {
    await postSlack(url, decided && rec.slack?.responseUrl ? { replace_original: true, ...msg } : msg);
  } catch (err) {
    d.metrics.errors.inc({ error_type: 'slack' });
    d.log?.warn({ err: errorMessage(err), proposal: rec.proposal.id }, 'slack notification failed');
  }
}

/**
 * An alert about a proposal that needs a person now (drift): always a new message to the channel's
 * webhook, since replacing the original approval message would notify nobody.
 */
export async function alertSlack(d: PipelineDeps, rec: ProposalRecord, outcome: Outcome): Promise<void> {
  const url = d.slack?.webhookUrl;
  if (!url) return;
  try {
    await postSlack(url, proposalBlocks(rec.proposal, outcome));
  } catch (err) {
    d.metrics.errors.inc({ error_type: 'slack' });
    d.log?.warn({ err: errorMessage(err), proposal: rec.proposal.id }, 'slack alert failed');
  }
}

/** The realized-effect follow-up (a new message to the channel's webhook, after the approval thread). */
export async function realizedSlack(d: PipelineDeps, rec: ProposalRecord): Promise<void> {
  const url = d.slack?.webhookUrl;
  const msg = realizedBlocks(rec.proposal);
  if (!url || !msg) return;
  try {
    await postSlack(url, msg);
  } catch (err) {
    d.metrics.errors.inc({ error_type: 'slack' });
    d.log?.warn({ err: errorMessage(err), proposal: rec.proposal.id }, 'slack realized-effect message failed');
  }
}
