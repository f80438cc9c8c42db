/**
 * Rollups are materialized views declared with the schema (analytics/schema/tables.ts): ClickHouse
 * fills them in the same INSERT as the raw rows, so they are exactly as complete as the raw tables.
 * This module names them and picks the right one for a time range.
 */
export const rollupTables = {
  flowsMinute: 'flows_1m',
  flowsHour: 'flows_1h',
  flowsDay: 'flows_1d',
  probesMinute: 'probes_1m',
  probesHour: 'probes_1h',
  probesDay: 'probes_1d',
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

const day = 24 * hour;

/** Pieces of a range: [table, from, to) slices whose union is the (widened) range, no overlap. */
export interface RollupSlice {
  table: string;
  from: number;
  to: number;
}

/**
 * Which rollup tables answer a range: minute rows for short unaligned ranges; otherwise hourly rows
 * at the edges and daily rows for the whole days in between, so a 30-day range reads ~30 daily
 * rows per key plus ≤ 46 hourly ones instead of 720, and the answer is still exact to the hour.
 */
export function rollupSlices(
  range: { from: number; to: number },
  tables: { minute: string; hour: string; day: string },
): { slices: RollupSlice[]; resolution: Resolution } {
  const res = pickResolution(range);
  if (res.stepMs === 60_000) return { slices: [{ table: tables.minute, from: res.from, to: res.to }], resolution: res };
  const dayFrom = Math.ceil(res.from / day) * day;
  const dayTo = Math.floor(res.to / day) * day;
  if (dayTo - dayFrom < day) return { slices: [{ table: tables.hour, from: res.from, to: res.to }], resolution: res };
  const slices: RollupSlice[] = [];
  if (res.from < dayFrom) slices.push({ table: tables.hour, from: res.from, to: dayFrom });
  slices.push({ table: tables.day, from: dayFrom, to: dayTo });
  if (dayTo < res.to) slices.push({ table: tables.hour, from: dayTo, to: res.to });
  return { slices, resolution: res };
}
