/** Parses durations such as `90s`, `45m`, `6h`, `2d`, `1w` (or plain seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (examples: 90s, 45m, 6h, 2d, 1w)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 's') as 'ms'];
  return Number(m[1]) * unit;
}
