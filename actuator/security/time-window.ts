/**
 * A security group's time window (weekdays, start and stop of day, in the group's time zone) as the rule
 * pieces a VyOS router matches it with. VyOS renders `time weekdays|starttime|stoptime` as nftables
 * `day {…}`, `hour >= "start"` and `hour < "stop"` (vyos-1x python/vyos/firewall.py `parse_time`, the same
 * in sagitta 1.4, circinus 1.5 and current; each only when its leaf is set), and
 * the kernel compares them knowing no zone (net/netfilter/nft_meta.c): `hour` is the packet time's
 * seconds after **UTC** midnight, against values `nft` converted from the rule's text with the router's
 * own offset when it loaded the rule; `day` is the weekday of UTC minus the kernel's `sys_tz` offset —
 * the zone systemd-timedated gives the kernel when the zone is set (0 on a router left on UTC). A window
 * written as local times therefore goes wrong around midnight on any router not on UTC, and one that
 * crosses UTC midnight once converted (09:00–17:00 Los Angeles is 17:00–01:00 UTC) matches nothing as two
 * separate comparisons.
 *
 * So the window is converted to UTC seconds of the week and split at every UTC midnight and every kernel
 * midnight, into pieces that each lie inside one day of both; each piece is rendered with its kernel
 * weekday and its start and stop written in the router's zone (UTC seconds plus the router's offset),
 * which `nft` turns back into exactly those UTC seconds. The stop is exclusive (`hour <`), so a piece
 * ending at 17:00 UTC stops at 17:00; one ending at UTC midnight has no stop at all (`hour < "00:00"` would
 * match nothing, and 23:59:59 would lose the day's last second): past midnight `hour >=` start fails
 * anyway, and the piece lies inside one kernel day. Offsets are taken at `at` (render time): a daylight-saving change in
 * the group's zone moves the window in UTC and needs a new render. On a router on UTC (the default and the
 * common practice) every frame is UTC and the rendering is exact; for others the kernel's day offset is
 * an input (`kernelDayOffsetS`, the router zone's offset by default, as timedated sets it).
 */

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeWindow {
  weekdays: readonly Weekday[];
  /** `HH:MM` (or `HH:MM:SS`) in `timeZone`; the window is [start, stop), crossing midnight when stop ≤ start. */
  start: string;
  stop: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

/** One VyOS rule's `time` node: a kernel weekday and an hour range [start, stop) written in the router's zone. */
export interface TimePiece {
  weekday: Weekday;
  /** Absent: from the day's start. */
  starttime?: string;
  /** Absent: to the end of the UTC day. */
  stoptime?: string;
}

const DAY_S = 86_400;
const WEEK_S = 7 * DAY_S;

/** `HH:MM[:SS]` → seconds after midnight (a clear error otherwise). */
export function secondsOfDay(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a time of day (HH:MM or HH:MM:SS, 00:00–23:59)`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

const hms = (s: number) =>
  [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((x) => String(x).padStart(2, '0')).join(':');

/** The UTC offset of `timeZone` at `at`, in seconds (east positive); a clear error for an unknown zone. */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

export function utcOffsetSeconds(timeZone: string, at: number): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    } catch {
      throw new Error(`unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin)`);
    }
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name ?? '');
  if (!m) throw new Error(`cannot read the UTC offset of "${timeZone}"`);
  return m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
}

/**
 * The pieces that match `window` on a router whose zone is `routerTimeZone` (VyOS `system time-zone`,
 * UTC when unset), with the offsets at `at`. Pieces are ordered by UTC week time, one VyOS rule each.
 */
export function timePieces(
  window: TimeWindow,
  routerTimeZone: string,
  at: number,
  kernelDayOffsetS = utcOffsetSeconds(routerTimeZone, at),
): TimePiece[] {
  if (window.weekdays.length === 0) throw new Error('a time window needs at least one weekday');
  const start = secondsOfDay(window.start);
  const stop = secondsOfDay(window.stop);
  const length = stop > start ? stop - start : DAY_S - start + stop;
  const groupOffset = utcOffsetSeconds(window.timeZone, at);
  const routerOffset = utcOffsetSeconds(routerTimeZone, at);
  const mod = (x: number, m: number) => ((x % m) + m) % m;
  // Each listed day's interval in UTC seconds of the week [from, to), wrapping at the week's end.
  const intervals: [number, number][] = [];
  for (const day of new Set(window.weekdays)) {
    const from = mod(WEEKDAYS.indexOf(day) * DAY_S + start - groupOffset, WEEK_S);
    const to = from + length;
    if (to <= WEEK_S) intervals.push([from, to]);
    else intervals.push([from, WEEK_S], [0, to - WEEK_S]);
  }
  // Split at UTC midnights (the hour's frame) and at kernel midnights (the day's frame).
  const cuts = new Set<number>();
  for (let d = 0; d < 7; d++) cuts.add(d * DAY_S).add(mod(d * DAY_S - kernelDayOffsetS, WEEK_S));
  const pieces: { weekday: Weekday; from: number; to: number }[] = [];
  for (const [from, to] of intervals) {
    const bounds = [from, ...[...cuts].filter((c) => c > from && c < to).sort((a, b) => a - b), to];
    for (let i = 0; i + 1 < bounds.length; i++)
      pieces.push({
        weekday: WEEKDAYS[Math.floor(mod(bounds[i]! + kernelDayOffsetS, WEEK_S) / DAY_S)]!,
        from: bounds[i]!,
        to: bounds[i + 1]!,
      });
  }
  pieces.sort((x, y) => x.from - y.from);
  const local = (utcWeekSeconds: number) => hms(mod(utcWeekSeconds + routerOffset, DAY_S));
  return pieces.map((p) => ({
    weekday: p.weekday,
    starttime: local(p.from),
    ...(p.to % DAY_S === 0 ? {} : { stoptime: local(p.to) }),
  }));
}

/**
 * Whether a rule with `piece` matches at `at` on a router in `routerTimeZone`, the way nft_meta.c decides
 * the `hour >= start` and `hour < stop` VyOS writes (each only when set): the hour strings are turned into UTC seconds with the router's offset and compared with the UTC time of
 * day; the day is the weekday of UTC shifted by the kernel's `sys_tz` offset. (The emulator's evaluation;
 * also what the tests check the rendering against.)
 */
export function pieceMatches(
  piece: TimePiece,
  routerTimeZone: string,
  at: number,
  kernelDayOffsetS = utcOffsetSeconds(routerTimeZone, at),
): boolean {
  const routerOffset = utcOffsetSeconds(routerTimeZone, at);
  const toUtc = (text: string) => (((secondsOfDay(text) - routerOffset) % DAY_S) + DAY_S) % DAY_S;
  const now = new Date(at);
  const secondOfDay = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  const kernelDay = new Date(at + kernelDayOffsetS * 1000).getUTCDay();
  return (
    WEEKDAYS[kernelDay] === piece.weekday &&
    (piece.starttime === undefined || secondOfDay >= toUtc(piece.starttime)) &&
    (piece.stoptime === undefined || secondOfDay < toUtc(piece.stoptime))
  );
}
