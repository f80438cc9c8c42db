/** Text for the reports users open or import (HTML and CSV): one escaping rule each, shared by every report. */

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One CSV field (RFC 4180: quoted when it holds a comma, quote or line break; null/undefined empty). */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record. */
export const csvRow = (cells: readonly unknown[]): string => cells.map(csvCell).join(',');

/** A byte count in decimal units, as GB is counted everywhere here (1e9 bytes): `12.3 GB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  // Step up while the figure would print as 1000 or more (999.97 kB reads 1.0 MB, not 1000.0 kB).
  const printed = () => Number(Math.abs(value).toFixed(unit === 0 ? 0 : 1));
  for (; printed() >= 1000 && unit < units.length - 1; unit++) value /= 1000;
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
