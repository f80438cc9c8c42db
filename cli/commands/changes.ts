import { analyticsStore } from '../../analytics/schema/cluster.ts';
import { isExit, parseCommand } from '../args.ts';
import { request } from 'undici';
import { loadConfig } from '../../core/config/index.ts';
import { createLogger } from '../../core/log.ts';
import type { ChangeRecordT } from '../../core/records/index.ts';
import { recentChanges } from '../../analytics/queries/index.ts';

export const summary = 'list the audit trail of changes (--proposal ID, --limit N, --json, --api URL, -c FILE)';

const usage = `usage: pathpilot changes [--proposal ID] [--limit N] [--json] [--api URL] [-c FILE]

The audit trail of changes (proposed, approved by whom, ops applied, guard verdicts, rollbacks),
newest first, from the store's changes table or, with --api, from a running actuator's REST API
(a viewer token in PATHPILOT_API_TOKEN).

  -p, --proposal ID  only this proposal's events
  -n, --limit N      events shown (default 50, at most 100000)
  --json             the events as a JSON array
  --api URL          read from the API at URL instead of the store
  -c, --config FILE  pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
`;

function line(e: ChangeRecordT): string {
  const when = new Date(e.time).toISOString().replace('T', ' ').slice(0, 19);
  // ClickHouse fills absent optional columns with defaults: show the step only where events carry one.
  const stepped = ['step-applied', 'baking', 'guard-pass', 'guard-fail', 'guard-inconclusive', 'rolled-back', 'drifted'].includes(
    e.event,
  );
  const where = [e.router, stepped && e.step !== undefined ? `step ${e.step + 1}` : undefined].filter(Boolean).join(' ');
  let detail = e.detail ?? '';
  if (detail.length > 120) detail = `${detail.slice(0, 117)}...`;
  return `${when}  ${e.proposal_id.padEnd(28)} ${e.event.padEnd(18)} ${(e.actor ?? '').padEnd(18)} ${where.padEnd(20)} ${detail}`;
}

/**
 * `pathpilot changes`: the append-only audit trail (proposed, approved by whom, ops applied,
 * before/after subtrees, guard verdicts, rollbacks), newest first, from the ClickHouse `changes`
 * table the analytics sink writes — or, with `--api`, from a running actuator's REST API
 * (token in PATHPILOT_API_TOKEN).
 */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot changes',
    usage,
    options: {
      config: { type: 'string', short: 'c' },
      proposal: { type: 'string', short: 'p' },
      limit: { type: 'string', short: 'n', default: '50' },
      json: { type: 'boolean' },
      api: { type: 'string' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values } = parsed;
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    process.stderr.write(`pathpilot changes: --limit must be an integer 1–100000 (got "${values.limit}")\n`);
    return 2;
  }
  let events: ChangeRecordT[];
  if (values.api) {
    const token = process.env['PATHPILOT_API_TOKEN'];
    if (!token) {
      process.stderr.write('pathpilot changes: --api needs PATHPILOT_API_TOKEN (a viewer token)\n');
      return 2;
    }
    const url = new URL('/api/v1/changes', values.api);
    if (values.proposal) url.searchParams.set('proposal', values.proposal);
    const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { changes?: ChangeRecordT[]; error?: string };
    if (res.statusCode !== 200) {
      process.stderr.write(`pathpilot changes: API answered ${res.statusCode}: ${body.error ?? ''}\n`);
      return 1;
    }
    events = (body.changes ?? []).sort((a, b) => b.time - a.time).slice(0, limit);
  } else {
    const loaded = loadConfig(values.config);
    const store = analyticsStore(loaded, { log: createLogger({ level: 'warn' }) });
    await store.start();
    try {
      events = await recentChanges(store, { proposal: values.proposal, limit });
    } finally {
      await store.stop();
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
    return 0;
  }
  for (const e of events) process.stdout.write(`${line(e)}\n`);
  process.stdout.write(`${events.length} events\n`);
  return 0;
}
