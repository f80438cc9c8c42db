import { dashboard, promTarget as prom, queryVar, sqlTarget as sql, textboxVar, type Dashboard } from './panels.ts';

/**
 * The six pathpilot dashboards. Panel SQL reads the analytics schema (analytics/schema/tables.ts)
 * with unqualified table names (the datasource's default database) and stays in the subset that
 * runs on ClickHouse 18.16 and modern servers alike: no toStartOfInterval ($__timeInterval), no
 * window functions, no WITH FILL, at most one JOIN. test/functional/dashboards runs every query.
 */

/** A time bucket of the panel interval, never finer than the 1-minute rollups. */
const bucket = (col: string): string =>
  `toDateTime(intDiv(toUInt32(${col}), greatest($__interval_s, 60)) * greatest($__interval_s, 60))`;
/** Site and class drop-downs (All by default); conditions go through $__conditionalAll. */
const siteVar = queryVar('site', 'Site', `SELECT DISTINCT site FROM flows_1m WHERE site != '' ORDER BY site`);
const classVar = queryVar('class', 'Class', `SELECT DISTINCT class FROM flows_1m WHERE class != '' ORDER BY class`);
const probeSiteVar = queryVar('site', 'Source site', `SELECT DISTINCT src_site FROM probes_1m ORDER BY src_site`);
const probeClassVar = queryVar('class', 'Class', `SELECT DISTINCT class FROM probes_1m ORDER BY class`);
const bySite = (col = 'site') => `$__conditionalAll(${col} IN (\${site:singlequote}), $site)`;
const byClass = (col = 'class') => `$__conditionalAll(${col} IN (\${class:singlequote}), $class)`;

/** Seconds in the dashboard range (for averages over the range). */
const rangeSeconds = 'greatest(1, toUInt32($__toTime) - toUInt32($__fromTime))';

export const networkOverview = dashboard({
  uid: 'pathpilot-network',
  title: 'pathpilot / Network overview',
  description: 'Sites and the traffic between them (flows, sampling-scaled), link utilization and top talkers',
  vars: [siteVar, classVar],
  panels: [
    {
      type: 'nodeGraph',
      title: 'Sites and traffic between them',
      description: 'Nodes: sites (mainstat: average bits/s sent + received). Edges: site → destination site (links used)',
      w: 24,
      h: 12,
      targets: [
        sql(
          'nodes',
          `SELECT s AS id, s AS title, round(sum(b) * 8 / ${rangeSeconds}) AS mainstat
           FROM (
             SELECT site AS s, bytes AS b FROM flows_1m WHERE $__timeFilter(t) AND site != '' AND ${byClass()}
             UNION ALL
             SELECT dst_site AS s, bytes AS b FROM flows_1m WHERE $__timeFilter(t) AND dst_site != '' AND ${byClass()}
           ) GROUP BY s ORDER BY s`,
          'table',
        ),
        sql(
          'edges',
          `SELECT concat(site, '>', dst_site) AS id, site AS source, dst_site AS target,
             round(sum(bytes) * 8 / ${rangeSeconds}) AS mainstat,
             arrayStringConcat(arraySort(groupUniqArray(link)), ',') AS secondarystat
           FROM flows_1m WHERE $__timeFilter(t) AND site != '' AND dst_site != '' AND ${byClass()}
             AND (${bySite('site')} OR ${bySite('dst_site')})
           GROUP BY site, dst_site ORDER BY id`,
          'table',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Link utilization (from flows)',
      unit: 'bps',
      w: 16,
      targets: [
        sql(
          'A',
          `SELECT ${bucket('t')} AS time, link, sum(bytes) * 8 / greatest($__interval_s, 60) AS bps
           FROM link_util_1m WHERE $__timeFilter(t) GROUP BY time, link ORDER BY time, link`,
        ),
      ],
    },
    {
      type: 'table',
      title: 'Links by volume',
      unit: 'decbytes',
      w: 8,
      targets: [
        sql(
          'A',
          `SELECT link, sum(bytes) AS total_bytes, round(sum(bytes) * 8 / ${rangeSeconds}) AS avg_bps
           FROM link_util_1m WHERE $__timeFilter(t) GROUP BY link ORDER BY total_bytes DESC LIMIT 50`,
          'table',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Traffic by class',
      unit: 'bps',
      targets: [
        sql(
          'A',
          `SELECT ${bucket('t')} AS time, class, sum(bytes) * 8 / greatest($__interval_s, 60) AS bps
           FROM flows_1m WHERE $__timeFilter(t) AND ${bySite()} AND ${byClass()}
           GROUP BY time, class ORDER BY time, class`,
        ),
      ],
    },
    {
      type: 'table',
      title: 'Top destinations (raw flows)',
      targets: [
        sql(
          'A',
          `SELECT dst_addr, any(dst_site) AS dst_site, sum(bytes) AS bytes,
             sum(packets) AS packets, count() AS flows
           FROM flows_raw WHERE $__timeFilter(time_received) AND ${bySite()} AND ${byClass()}
           GROUP BY dst_addr ORDER BY bytes DESC LIMIT 20`,
          'table',
        ),
      ],
    },
  ],
});

const pathSeries = `concat(path_id, if(class = '', '', concat(' / ', class)))`;

export const pathQuality = dashboard({
  uid: 'pathpilot-paths',
  title: 'pathpilot / Path quality',
  description: 'Probe results per path and class: RTT quantiles (of window medians), loss and jitter',
  vars: [probeSiteVar, probeClassVar],
  panels: [
    {
      type: 'timeseries',
      title: 'RTT p95 per path',
      unit: 'ms',
      targets: [
        sql(
          'A',
          `SELECT ${bucket('t')} AS time, ${pathSeries} AS path,
             quantilesTDigestMerge(0.5, 0.95, 0.99)(rtt)[2] AS rtt_p95_ms
           FROM probes_1m WHERE $__timeFilter(t) AND ${bySite('src_site')} AND ${byClass()} GROUP BY time, path ORDER BY time, path`,
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Loss per path',
      unit: 'percentunit',
      targets: [
        sql(
          'A',
          `SELECT ${bucket('t')} AS time, ${pathSeries} AS path,
             greatest(0, 1 - sumMerge(received) / greatest(sumMerge(sent), 1)) AS loss
           FROM probes_1m WHERE $__timeFilter(t) AND ${bySite('src_site')} AND ${byClass()} GROUP BY time, path ORDER BY time, path`,
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Jitter per path',
      unit: 'ms',
      targets: [
        sql(
          'A',
          `SELECT ${bucket('t')} AS time, ${pathSeries} AS path, avgMerge(jitter) AS jitter_ms
           FROM probes_1m WHERE $__timeFilter(t) AND ${bySite('src_site')} AND ${byClass()} GROUP BY time, path ORDER BY time, path`,
        ),
      ],
    },
    {
      type: 'table',
      title: 'Quality over the range',
      targets: [
        sql(
          'A',
          `SELECT path_id, class, any(src_site) AS from_site, any(dst_site) AS to_site,
             quantilesTDigestMerge(0.5, 0.95, 0.99)(rtt) AS q, q[1] AS rtt_p50_ms, q[2] AS rtt_p95_ms, q[3] AS rtt_p99_ms,
             maxMerge(rtt_p95_max) AS worst_p95_ms,
             greatest(0, 1 - sumMerge(received) / greatest(sumMerge(sent), 1)) AS loss,
             avgMerge(jitter) AS jitter_ms, countMerge(windows) AS windows
           FROM probes_1m WHERE $__timeFilter(t) AND ${bySite('src_site')} AND ${byClass()} GROUP BY path_id, class ORDER BY path_id, class`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Worst probe windows',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT window_start, path_id, class, src_site, dst_site, rtt_p95_ms, loss_ratio, jitter_ms, sent, received
           FROM probes_raw WHERE $__timeFilter(window_start) AND ${bySite('src_site')} AND ${byClass()}
           ORDER BY rtt_p95_ms DESC, loss_ratio DESC LIMIT 20`,
          'table',
        ),
      ],
    },
  ],
});

const latestLinkForecast = `SELECT t AS time, concat(target, ' forecast') AS series, value, lo, hi
  FROM forecasts
  WHERE metric = 'link_bps' AND $__timeFilter(t)
    AND (target, made_at) IN (SELECT target, max(made_at) FROM forecasts WHERE metric = 'link_bps' GROUP BY target)
  ORDER BY time, series`;

export const trafficForecasts = dashboard({
  uid: 'pathpilot-traffic',
  title: 'pathpilot / Traffic and forecasts',
  description: 'Link traffic against the latest forecast run, forecast accuracy, and the traffic matrix',
  time: 'now-24h',
  vars: [siteVar, classVar],
  panels: [
    {
      type: 'timeseries',
      title: 'Link traffic: actual vs latest forecast',
      unit: 'bps',
      w: 24,
      h: 10,
      targets: [
        sql(
          'actual',
          `SELECT ${bucket('t')} AS time, concat(link, ' actual') AS series, sum(bytes) * 8 / greatest($__interval_s, 60) AS value
           FROM link_util_1m WHERE $__timeFilter(t) GROUP BY time, series ORDER BY time, series`,
        ),
        sql('forecast', latestLinkForecast),
      ],
    },
    {
      type: 'table',
      title: 'Forecast accuracy per link (latest point per minute)',
      description: 'MAPE of the forecast against flow-derived traffic, and how often the actual fell inside [lo, hi]',
      targets: [
        sql(
          'A',
          `SELECT target AS link, count() AS points, avg(abs(value - bps) / greatest(bps, 1)) AS mape,
             sum(if(bps >= lo AND bps <= hi, 1, 0)) / count() AS coverage
           FROM (
             SELECT target, toUInt32(t) AS ts, argMax(value, made_at) AS value, argMax(lo, made_at) AS lo, argMax(hi, made_at) AS hi
             FROM forecasts WHERE metric = 'link_bps' AND $__timeFilter(t) GROUP BY target, ts
           ) AS f ANY INNER JOIN (
             SELECT link AS target, toUInt32(t) AS ts, sum(bytes) * 8 / 60 AS bps
             FROM link_util_1m WHERE $__timeFilter(t) GROUP BY target, ts
           ) AS a USING (target, ts)
           GROUP BY link ORDER BY link`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Latest forecast runs',
      targets: [
        sql(
          'A',
          `SELECT metric, target, model, argMax(model_version, made_at) AS latest_version, max(made_at) AS latest_run,
             count() AS points, min(t) AS first_point, max(t) AS last_point
           FROM forecasts WHERE $__timeFilter(made_at)
           GROUP BY metric, target, model ORDER BY metric, target, model`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Traffic matrix (site → destination site, class)',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT site AS src_site, dst_site, class, sum(bytes) AS total_bytes, round(sum(bytes) * 8 / ${rangeSeconds}) AS avg_bps
           FROM flows_1m WHERE $__timeFilter(t) AND ${bySite()} AND ${byClass()}
           GROUP BY src_site, dst_site, class ORDER BY total_bytes DESC LIMIT 200`,
          'table',
        ),
      ],
    },
  ],
});

const monthStart = 'toStartOfMonth(toDate($__toTime))';
const daysInMonth = `toDayOfMonth(addDays(addMonths(${monthStart}, 1), -1))`;

export const costBudget = dashboard({
  uid: 'pathpilot-cost',
  title: 'pathpilot / Cost and budget',
  description:
    'Billing data (re-imports replace, never add), month-to-date spend with a linear projection against the monthly budget',
  time: 'now-30d',
  vars: [textboxVar('monthly_budget', 'Monthly budget', '10000')],
  panels: [
    {
      type: 'timeseries',
      title: 'Daily cost by provider',
      unit: 'currencyUSD',
      w: 16,
      targets: [
        sql(
          'A',
          `SELECT toDateTime(day) AS time, provider, sum(cost) AS cost
           FROM cost_daily WHERE $__dateFilter(day) GROUP BY time, provider ORDER BY time, provider`,
        ),
      ],
      options: { drawStyle: 'bars' },
    },
    {
      type: 'stat',
      title: 'Projected month vs budget',
      description:
        'Month of the range end: spend so far × days in month ÷ days elapsed, over $monthly_budget (alerts at 80% and 100%)',
      unit: 'percentunit',
      w: 8,
      targets: [
        sql(
          'A',
          `SELECT sum(cost) * ${daysInMonth} / toDayOfMonth(toDate($__toTime)) / greatest(toFloat64('$monthly_budget'), 0.01) AS budget_used
           FROM cost_daily WHERE day >= ${monthStart} AND day <= toDate($__toTime)`,
          'table',
        ),
      ],
      options: { reduceOptions: { calcs: ['lastNotNull'] } },
    },
    {
      type: 'table',
      title: 'Month to date by provider',
      targets: [
        sql(
          'A',
          `SELECT provider, currency, sum(cost) AS month_to_date,
             sum(cost) * ${daysInMonth} / toDayOfMonth(toDate($__toTime)) AS projected
           FROM cost_daily WHERE day >= ${monthStart} AND day <= toDate($__toTime)
           GROUP BY provider, currency ORDER BY projected DESC`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Cost per GB by link',
      targets: [
        sql(
          'A',
          `SELECT link, provider, cost, gb, if(gb > 0, cost / gb, 0) AS cost_per_gb
           FROM (
             SELECT link, any(provider) AS provider, sum(cost) AS cost FROM cost_daily
             WHERE $__dateFilter(day) AND link != '' GROUP BY link
           ) AS c ANY LEFT JOIN (
             SELECT link, sum(bytes) / 1e9 AS gb FROM link_util_1m WHERE $__timeFilter(t) GROUP BY link
           ) AS v USING (link)
           ORDER BY cost DESC`,
          'table',
        ),
      ],
    },
    {
      type: 'barchart',
      title: 'Cost by category',
      unit: 'currencyUSD',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT category, sum(cost) AS cost FROM cost_daily WHERE $__dateFilter(day) GROUP BY category ORDER BY cost DESC`,
          'table',
        ),
      ],
    },
  ],
});

export const decisions = dashboard({
  uid: 'pathpilot-decisions',
  title: 'pathpilot / Optimizer and actuator decisions',
  description: 'Proposals, their approval and rollout, SLO guard verdicts and rollbacks (the audit trail), optimizer runs',
  time: 'now-7d',
  panels: [
    {
      type: 'table',
      title: 'Proposals (latest status)',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT id, min(created_at) AS created, any(kind) AS kind, argMax(status, updated_at) AS status,
             argMax(risk, updated_at) AS risk, argMax(reason, updated_at) AS reason, max(updated_at) AS updated
           FROM proposals WHERE $__timeFilter(created_at) GROUP BY id ORDER BY created DESC LIMIT 200`,
          'table',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Change events',
      targets: [
        sql(
          'A',
          `SELECT ${bucket('time')} AS ts, event, uniqExact(event_id) AS events
           FROM changes WHERE $__timeFilter(time) GROUP BY ts, event ORDER BY ts, event`,
        ),
      ],
      options: { drawStyle: 'bars' },
    },
    {
      type: 'stat',
      title: 'Rollbacks and guard failures',
      targets: [
        sql(
          'A',
          `SELECT uniqExactIf(event_id, event = 'rolled-back') AS rollbacks, uniqExactIf(event_id, event = 'guard-fail') AS guard_failures,
             uniqExactIf(event_id, event = 'confirmed') AS confirmed
           FROM changes WHERE $__timeFilter(time)`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Rollbacks, guard failures and failed changes',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT time, proposal_id, event, router, step, actor, detail
           FROM changes WHERE $__timeFilter(time) AND event IN ('rolled-back', 'guard-fail', 'guard-inconclusive', 'failed')
           ORDER BY time DESC LIMIT 1 BY event_id LIMIT 100`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Audit trail',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT time, proposal_id, event, actor, router, step
           FROM changes WHERE $__timeFilter(time) ORDER BY time DESC, event_id LIMIT 1 BY event_id LIMIT 500`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Models',
      targets: [
        sql(
          'A',
          `SELECT name, version, kind, argMax(status, created_at) AS status, max(created_at) AS created, argMax(metrics, created_at) AS metrics
           FROM models GROUP BY name, version, kind ORDER BY created DESC LIMIT 50`,
          'table',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Optimizer runs and proposals',
      targets: [
        prom('A', 'sum by (outcome) (increase(pathpilot_optimizer_runs_total[$__rate_interval]))', 'runs {{outcome}}'),
        prom('B', 'sum by (kind) (increase(pathpilot_optimizer_proposals_total[$__rate_interval]))', 'proposals {{kind}}'),
      ],
    },
    {
      type: 'timeseries',
      title: 'Actuator: rollout steps and rollbacks',
      targets: [
        prom('A', 'sum by (result) (increase(pathpilot_actuator_applies_total[$__rate_interval]))', 'steps {{result}}'),
        prom('B', 'sum by (result) (increase(pathpilot_actuator_rollbacks_total[$__rate_interval]))', 'rollbacks {{result}}'),
      ],
    },
    {
      type: 'timeseries',
      title: 'Actuator: apply and rollback latency p95',
      unit: 's',
      targets: [
        prom(
          'A',
          'histogram_quantile(0.95, sum by (le) (rate(pathpilot_actuator_apply_latency_seconds_bucket[$__rate_interval])))',
          'apply p95',
        ),
        prom(
          'B',
          'histogram_quantile(0.95, sum by (le) (rate(pathpilot_actuator_rollback_latency_seconds_bucket[$__rate_interval])))',
          'rollback p95',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'TE solve time p95',
      unit: 's',
      targets: [
        prom(
          'A',
          'histogram_quantile(0.95, sum by (le) (rate(pathpilot_optimizer_solve_seconds_bucket[$__rate_interval])))',
          'p95',
        ),
      ],
    },
  ],
});

const stageRate = (stage: string, series: string, legend: string) =>
  prom(series, `sum(rate(pathpilot_${stage}_total[$__rate_interval]))`, legend);

export const pipelineHealth = dashboard({
  uid: 'pathpilot-pipeline',
  title: 'pathpilot / Pipeline health',
  description: 'Collectors → Kafka → sink → ClickHouse: throughput, drops, errors, lag and data freshness',
  time: 'now-3h',
  panels: [
    {
      type: 'timeseries',
      title: 'Flow collector: datagrams in, records out',
      unit: 'ops',
      targets: [
        stageRate('ingest_flow_received', 'A', 'datagrams received/s'),
        stageRate('ingest_flow_sent', 'B', 'records sent/s'),
        prom('C', 'sum by (kind) (rate(pathpilot_ingest_flow_decoded_records_total[$__rate_interval]))', 'decoded {{kind}}/s'),
      ],
    },
    {
      type: 'timeseries',
      title: 'Drops and errors by stage',
      unit: 'ops',
      targets: [
        prom('A', 'sum by (reason) (rate(pathpilot_ingest_flow_dropped_total[$__rate_interval]))', 'flow dropped {{reason}}'),
        prom(
          'B',
          'sum by (error_type) (rate(pathpilot_ingest_flow_errors_total[$__rate_interval]))',
          'flow error {{error_type}}',
        ),
        prom('C', 'sum by (reason) (rate(pathpilot_analytics_sink_dropped_total[$__rate_interval]))', 'sink dropped {{reason}}'),
        prom(
          'D',
          'sum by (reason) (rate(pathpilot_analytics_sink_dead_lettered_total[$__rate_interval]))',
          'dead-lettered {{reason}}',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Sink: rows inserted by table',
      unit: 'rowsps',
      targets: [prom('A', 'sum by (table) (rate(pathpilot_analytics_sink_rows_inserted_total[$__rate_interval]))', '{{table}}')],
    },
    {
      type: 'timeseries',
      title: 'Ingest lag (Kafka → ClickHouse) p95',
      unit: 's',
      targets: [
        prom(
          'A',
          'histogram_quantile(0.95, sum by (le, table) (rate(pathpilot_analytics_sink_lag_seconds_bucket[$__rate_interval])))',
          '{{table}}',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Bus: published and consumed by topic',
      unit: 'ops',
      targets: [
        prom('A', 'sum by (topic) (rate(pathpilot_bus_published_messages_total[$__rate_interval]))', 'published {{topic}}'),
        prom('B', 'sum by (topic) (rate(pathpilot_bus_consumed_messages_total[$__rate_interval]))', 'consumed {{topic}}'),
      ],
    },
    {
      type: 'timeseries',
      title: 'Probe agent and billing importer',
      unit: 'ops',
      targets: [
        stageRate('ingest_probe_sent', 'A', 'probe windows sent/s'),
        prom('B', 'sum(rate(pathpilot_ingest_probe_late_replies_total[$__rate_interval]))', 'late replies/s'),
        stageRate('ingest_billing_sent', 'C', 'billing records sent/s'),
        prom(
          'D',
          'sum by (error_type) (rate(pathpilot_ingest_billing_errors_total[$__rate_interval]))',
          'billing {{error_type}}',
        ),
      ],
    },
    {
      type: 'timeseries',
      title: 'Rows stored per raw table',
      targets: [
        sql(
          'A',
          `SELECT ts, tbl, rows FROM (
             SELECT ${bucket('time_received')} AS ts, 'flows_raw' AS tbl, count() AS rows
             FROM flows_raw WHERE $__timeFilter(time_received) GROUP BY ts
             UNION ALL
             SELECT ${bucket('window_start')} AS ts, 'probes_raw' AS tbl, count() AS rows
             FROM probes_raw WHERE $__timeFilter(window_start) GROUP BY ts
             UNION ALL
             SELECT ${bucket('time')} AS ts, 'iface_raw' AS tbl, count() AS rows
             FROM iface_raw WHERE $__timeFilter(time) GROUP BY ts
           ) ORDER BY ts, tbl`,
        ),
      ],
    },
    {
      type: 'table',
      title: 'Data freshness',
      description: 'Newest row per raw table and its age at query time',
      targets: [
        sql(
          'A',
          `SELECT tbl, latest, toInt64(now()) - toInt64(latest) AS age_s FROM (
             SELECT 'flows_raw' AS tbl, max(time_received) AS latest FROM flows_raw
             UNION ALL SELECT 'probes_raw' AS tbl, max(window_start) AS latest FROM probes_raw
             UNION ALL SELECT 'iface_raw' AS tbl, max(time) AS latest FROM iface_raw
             UNION ALL SELECT 'costs_raw' AS tbl, max(usage_start) AS latest FROM costs_raw
             UNION ALL SELECT 'changes' AS tbl, max(time) AS latest FROM changes
           ) ORDER BY tbl`,
          'table',
        ),
      ],
    },
    {
      type: 'table',
      title: 'Sink offsets (stored per table and partition)',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT tbl, src_partition, space, max(max_offset) % 1099511627776 AS kafka_offset
           FROM sink_offsets GROUP BY tbl, src_partition, space ORDER BY tbl, src_partition, space`,
          'table',
        ),
      ],
    },
  ],
});

export const security = dashboard({
  uid: 'pathpilot-security',
  title: 'pathpilot / Security and compliance',
  description:
    "Each router's compliance score and failing rules (the actuator's compliance watch), tunnel SAs and WireGuard key ages",
  time: 'now-7d',
  panels: [
    {
      type: 'timeseries',
      title: 'Compliance score by router',
      description:
        'Applicable rules passed, weighted by severity (high 3, medium 2, low 1); `pathpilot compliance report` for the details',
      unit: 'percent',
      targets: [prom('A', 'min by (router) (pathpilot_compliance_score)', '{{router}}')],
    },
    {
      type: 'table',
      title: 'Failing rules (findings per router and rule)',
      targets: [prom('A', 'sum by (router, rule, severity) (pathpilot_compliance_rule_failing) > 0', '{{router}} {{rule}}')],
    },
    {
      type: 'timeseries',
      title: 'IPsec SAs established',
      targets: [prom('A', 'max by (node, peer) (pathpilot_tunnel_ipsec_sa_up)', '{{node}} → {{peer}}')],
    },
    {
      type: 'bargauge',
      title: 'WireGuard key age (hours; rotation policy 72 h)',
      unit: 'h',
      targets: [prom('A', 'max by (node, iface) (pathpilot_tunnel_key_age_seconds) / 3600', '{{node}}/{{iface}}')],
    },
    {
      type: 'timeseries',
      title: 'Threat feeds: hours since last good read, and hits',
      targets: [
        prom('A', '(time() - max by (feed) (pathpilot_threat_feed_last_success_timestamp_seconds)) / 3600', 'age h {{feed}}'),
        prom('B', 'sum by (router) (pathpilot_threat_feed_hits)', 'hits {{router}}'),
      ],
    },
    {
      type: 'table',
      title: 'Security and tunnel changes (latest status)',
      description: 'Firewall, threat-feed group, IPsec/OpenVPN and WireGuard failover proposals',
      w: 24,
      targets: [
        sql(
          'A',
          `SELECT id, min(created_at) AS created, any(kind) AS proposal_kind, argMax(status, updated_at) AS status,
             argMax(risk, updated_at) AS risk, argMax(reason, updated_at) AS reason
           FROM proposals WHERE $__timeFilter(created_at) AND kind IN ('security', 'tunnel')
           GROUP BY id ORDER BY created DESC LIMIT 200`,
          'table',
        ),
      ],
    },
  ],
});

export const allDashboards: Dashboard[] = [
  networkOverview,
  pathQuality,
  trafficForecasts,
  costBudget,
  decisions,
  pipelineHealth,
  security,
];

/** File name (under dashboards/grafana/dashboards/) of a dashboard. */
export const fileOf = (d: Dashboard): string => `${d.uid.replace(/^pathpilot-/, '')}.json`;
