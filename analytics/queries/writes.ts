import type { Store } from '../../core/store/types.ts';
import { sql, ident, list } from '../../core/store/sql.ts';
import { changeRecord, type ChangeRecordT } from '../../core/records/index.ts';
import type { Proposal } from '../../core/proposal.ts';
import type { AccessEntry } from '../../core/http/access-log.ts';

/**
 * Writers and readers for the tables that are not fed by the sink: forecasts, proposals, models,
 * and direct audit writes. Times are epoch ms in JS and DateTime seconds in ClickHouse.
 */
const sec = (ms: number) => Math.floor(ms / 1000);
const tbl = (store: Store, name: string) => sql`${ident(store.database)}.${ident(name)}`;

export interface ForecastPoint {
  made_at: number;
  model: string;
  model_version: string;
  /** What is forecast: `link_bps`, `pair_bps`, `cost_daily`… */
  metric: string;
  /** The entity: a link id, `a>b` pair, provider… */
  target: string;
  t: number;
  value: number;
  lo: number;
  hi: number;
}

export async function writeForecasts(store: Store, points: readonly ForecastPoint[]): Promise<void> {
  await store.insert(
    'forecasts',
    points.map((p) => ({ ...p, made_at: sec(p.made_at), t: sec(p.t) })),
  );
}

/** The latest run's points for a metric and targets (optionally one model). */
export async function latestForecast(
  store: Store,
  q: { metric: string; targets?: string[]; model?: string },
): Promise<ForecastPoint[]> {
  const rows = await store.query<Record<string, unknown>>(sql`
    SELECT made_at_s, model, model_version, metric, target, t_s, value, lo, hi FROM (
      SELECT toUnixTimestamp(made_at) AS made_at_s, model, model_version, metric, target, toUnixTimestamp(t) AS t_s, value, lo, hi
      FROM ${tbl(store, 'forecasts')}
      WHERE metric = ${q.metric} ${q.targets?.length ? sql`AND target IN ${list(q.targets)}` : sql``} ${q.model ? sql`AND model = ${q.model}` : sql``}
    ) AS f
    ALL INNER JOIN (
      SELECT target, toUnixTimestamp(max(made_at)) AS made_at_s FROM ${tbl(store, 'forecasts')}
      WHERE metric = ${q.metric} ${q.model ? sql`AND model = ${q.model}` : sql``} GROUP BY target
    ) AS m USING (target, made_at_s)
    ORDER BY target, t_s`);
  return rows.map((r) => ({
    made_at: Number(r.made_at_s) * 1000,
    model: String(r.model),
    model_version: String(r.model_version),
    metric: String(r.metric),
    target: String(r.target),
    t: Number(r.t_s) * 1000,
    value: Number(r.value),
    lo: Number(r.lo),
    hi: Number(r.hi),
  }));
}

export async function saveProposal(store: Store, p: Proposal, updatedAt: number): Promise<void> {
  await store.insert('proposals', [
    {
      id: p.id,
      created_at: sec(p.created_at),
      updated_at: sec(updatedAt),
      kind: p.kind,
      status: p.status,
      risk: p.risk,
      reason: p.reason,
      body: JSON.stringify(p),
    },
  ]);
}

/** Latest version of each proposal (ReplacingMergeTree may not have merged yet: argMax reads). */
export async function readProposals(
  store: Store,
  q: { ids?: string[]; statuses?: string[]; limit?: number } = {},
): Promise<Proposal[]> {
  const rows = await store.query<{ body: string }>(sql`
    SELECT body FROM (
      SELECT id, argMax(body, updated_at) AS body, argMax(status, updated_at) AS status, min(created_at) AS created
      FROM ${tbl(store, 'proposals')} ${q.ids?.length ? sql`WHERE id IN ${list(q.ids)}` : sql``} GROUP BY id
    ) ${q.statuses?.length ? sql`WHERE status IN ${list(q.statuses)}` : sql``}
    ORDER BY created DESC, id LIMIT ${Math.min(q.limit ?? 1000, 100_000)}`);
  return rows.map((r) => JSON.parse(r.body) as Proposal);
}

export interface ModelRow {
  name: string;
  version: string;
  created_at: number;
  kind: string;
  status: string;
  metrics: Record<string, unknown>;
  artifact: string;
}

export async function saveModel(store: Store, m: ModelRow): Promise<void> {
  await store.insert('models', [{ ...m, created_at: sec(m.created_at), metrics: JSON.stringify(m.metrics) }]);
}

/** Latest version of a model with the given status (default any). */
export async function latestModel(store: Store, name: string, status?: string): Promise<ModelRow | undefined> {
  const rows = await store.query<Record<string, unknown>>(sql`
    SELECT name, version, toUnixTimestamp(created_at) AS created, kind, status, metrics, artifact
    FROM ${tbl(store, 'models')} WHERE name = ${name} ${status ? sql`AND status = ${status}` : sql``}
    ORDER BY created_at DESC, version DESC LIMIT 1`);
  const r = rows[0];
  if (!r) return undefined;
  return {
    name: String(r.name),
    version: String(r.version),
    created_at: Number(r.created) * 1000,
    kind: String(r.kind),
    status: String(r.status),
    metrics: JSON.parse(String(r.metrics || '{}')) as Record<string, unknown>,
    artifact: String(r.artifact),
  };
}

/** Direct audit writes (when the change did not travel through Kafka). Validates each event. */
export async function appendChanges(store: Store, events: readonly ChangeRecordT[]): Promise<void> {
  await store.insert(
    'changes',
    events.map((e) => changeRecord.toRow(changeRecord.parse(e))),
  );
}

/** A proposal's audit trail in time order (a repeated event_id counts once). */
export async function changesFor(store: Store, proposalId: string): Promise<ChangeRecordT[]> {
  return (await readChanges(store, { proposal: proposalId, limit: 100_000 })).reverse();
}

/**
 * Audit events, newest first: one proposal's or everyone's, at most `limit` (a repeated event_id — a
 * redelivered Kafka message — counts once).
 */
export async function recentChanges(store: Store, q: { proposal?: string; limit?: number } = {}): Promise<ChangeRecordT[]> {
  return readChanges(store, { proposal: q.proposal, limit: Math.min(Math.max(1, q.limit ?? 50), 100_000) });
}

async function readChanges(store: Store, q: { proposal?: string; limit: number }): Promise<ChangeRecordT[]> {
  const rows = await store.query<Record<string, unknown>>(sql`
    SELECT event_id, any(proposal_id) AS proposal_s, any(toUnixTimestamp(time)) AS time_s, any(event) AS event_s,
      any(actor) AS actor_s, any(router) AS router_s, any(step) AS step_s, any(detail) AS detail_s
    FROM ${tbl(store, 'changes')} ${q.proposal ? sql`WHERE proposal_id = ${q.proposal}` : sql``}
    GROUP BY event_id ORDER BY time_s DESC, event_id DESC LIMIT ${q.limit}`);
  return rows.map((r) =>
    changeRecord.fromRow({
      event_id: r.event_id,
      time: r.time_s,
      proposal_id: r.proposal_s,
      event: r.event_s,
      actor: r.actor_s,
      router: r.router_s,
      step: r.step_s,
      detail: r.detail_s,
    }),
  );
}

/** Each proposal's latest audit event other than `proposed`, with its time (epoch ms). */
export async function latestChangeEvents(
  store: Store,
  proposalIds: readonly string[],
): Promise<Map<string, { event: string; time: number }>> {
  if (proposalIds.length === 0) return new Map();
  const rows = await store.query<{ proposal_id: string; last: string; at_s: number | string }>(sql`
    SELECT proposal_id, argMax(event, time) AS last, toUnixTimestamp(max(time)) AS at_s
    FROM ${tbl(store, 'changes')}
    WHERE proposal_id IN ${list([...proposalIds])} AND event != 'proposed'
    GROUP BY proposal_id`);
  return new Map(rows.map((r) => [r.proposal_id, { event: r.last, time: Number(r.at_s) * 1000 }]));
}

/** How many proposals reached each of these audit events. */
export async function proposalsPerEvent(store: Store, events: readonly string[]): Promise<Record<string, number>> {
  const rows = await store.query<{ event: string; n: number | string }>(sql`
    SELECT event, uniqExact(proposal_id) AS n FROM ${tbl(store, 'changes')}
    WHERE event IN ${list([...events])} GROUP BY event`);
  return Object.fromEntries(events.map((e) => [e, Number(rows.find((r) => r.event === e)?.n ?? 0)]));
}

/** The API's access log into `api_access` (core/http/access-log.ts batches the entries). */
export async function saveAccessEntries(store: Store, entries: readonly AccessEntry[]): Promise<void> {
  if (!entries.length) return;
  await store.insert(
    'api_access',
    entries.map((e) => ({ ...e, time: sec(e.time) })),
  );
}
