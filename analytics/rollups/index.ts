/**
 * Rollups are materialized views declared with the schema (analytics/schema/tables.ts): ClickHouse
 * fills them in the same INSERT as the raw rows, so they are exactly as complete as the raw tables.
 * This module names them and picks the right one for a time range.
 */
export const rollupTables = {
  flowsMinute: 'flows_1m',
  flowsHour: 'flows_1h',
  probesMinute: 'probes_1m',
  probesHour: 'probes_1h',
  linkMinute: 'link_util_1m',
  ifaceMinute: 'iface_1m',
  costDaily: 'cost_daily',
} as const;

const hour = 3_600_000;

export interface Resolution {
  stepMs: 60_000 | 3_600_000;
  /** The range widened to whole steps. */
  from: number;
  to: number;
}

/**
 * Minute resolution for ranges up to `hourAfterMs` (default 2 days) unless both ends are whole
 * hours; hourly beyond, with the range widened to whole hours.
 */
export function pickResolution(range: { from: number; to: number }, hourAfterMs = 2 * 24 * hour): Resolution {
  const aligned = range.from % hour === 0 && range.to % hour === 0;
  if (aligned || range.to - range.from > hourAfterMs) {
    return { stepMs: hour, from: Math.floor(range.from / hour) * hour, to: Math.ceil(range.to / hour) * hour };
  }
  return { stepMs: 60_000, from: Math.floor(range.from / 60_000) * 60_000, to: Math.ceil(range.to / 60_000) * 60_000 };
}
