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
