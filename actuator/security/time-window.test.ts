import { describe, expect, it } from 'vitest';
import { pieceMatches, secondsOfDay, timePieces, utcOffsetSeconds, WEEKDAYS, type TimeWindow } from './time-window.ts';

/** A week without a daylight-saving change in any zone used here (Monday 5 January 2026, 00:00 UTC). */
const weekStart = Date.UTC(2026, 0, 5);

/** Whether `at` lies inside the window as its owner means it: weekday and time of day in its own zone. */
function inside(w: TimeWindow, at: number): boolean {
  const local = new Date(at + utcOffsetSeconds(w.timeZone, at) * 1000);
  const sod = local.getUTCHours() * 3600 + local.getUTCMinutes() * 60 + local.getUTCSeconds();
  const day = WEEKDAYS[local.getUTCDay()]!;
  const before = WEEKDAYS[(local.getUTCDay() + 6) % 7]!;
  const start = secondsOfDay(w.start);
  const stop = secondsOfDay(w.stop);
  if (stop > start) return w.weekdays.includes(day) && sod >= start && sod < stop;
  return (w.weekdays.includes(day) && sod >= start) || (w.weekdays.includes(before) && sod < stop);
}

/** Every half hour of the week and the second before each (every window edge here falls on one) where the router's rules and the owner's intent differ. */
function mismatches(w: TimeWindow, routerZone: string, kernelDayOffsetS?: number): string[] {
  const pieces = timePieces(w, routerZone, weekStart, kernelDayOffsetS);
  const out: string[] = [];
  for (let m = 0; m < 7 * 24 * 60; m += 30)
    for (const at of [weekStart + m * 60_000, weekStart + m * 60_000 - 1000]) {
      const router = pieces.some((p) => pieceMatches(p, routerZone, at, kernelDayOffsetS));
      if (router !== inside(w, at)) out.push(`${new Date(at).toISOString()} router ${router}`);
    }
  return out;
}

const office: TimeWindow = {
  weekdays: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
  start: '09:00',
  stop: '17:00',
  timeZone: 'America/Los_Angeles',
};

describe('security group time windows on VyOS (nftables hour in UTC, day in the kernel zone)', () => {
  it('matches exactly the owner’s window at every edge over a week, for routers in several zones', () => {
    const windows: TimeWindow[] = [
      office,
      { weekdays: ['Mon', 'Wed'], start: '08:30', stop: '12:00', timeZone: 'Europe/Berlin' },
      { weekdays: ['Fri', 'Sat'], start: '22:00', stop: '06:00', timeZone: 'Asia/Kolkata' },
      { weekdays: ['Sun'], start: '00:00', stop: '00:00', timeZone: 'UTC' },
    ];
    for (const w of windows)
      for (const zone of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Berlin']) {
        expect(mismatches(w, zone), `${w.timeZone} ${w.start}-${w.stop} on a ${zone} router`).toEqual([]);
        // A kernel whose sys_tz was left at UTC while the router's zone is not.
        expect(mismatches(w, zone, 0), `${w.timeZone} ${w.start}-${w.stop} on a ${zone} router, kernel day in UTC`).toEqual([]);
      }
  });

  it('splits a window that crosses UTC midnight: Los Angeles office hours are two pieces a day on a UTC router', () => {
    const pieces = timePieces(office, 'UTC', weekStart);
    // VyOS matches `hour < stop`: a piece ending at UTC midnight has no stop (its last second included).
    expect(pieces.slice(0, 3)).toEqual([
      { weekday: 'Mon', starttime: '17:00:00' },
      { weekday: 'Tue', starttime: '00:00:00', stoptime: '01:00:00' },
      { weekday: 'Tue', starttime: '17:00:00' },
    ]);
    expect(pieces).toHaveLength(10);
    // Written as the owner wrote it (local days and hours), the rule would match a different time.
    const naive = office.weekdays.map((weekday) => ({ weekday, starttime: '09:00:00', stoptime: '17:00:00' }));
    const at = Date.UTC(2026, 0, 5, 18); // Monday 10:00 in Los Angeles
    expect(naive.some((p) => pieceMatches(p, 'UTC', at))).toBe(false);
    expect(pieces.some((p) => pieceMatches(p, 'UTC', at))).toBe(true);
  });

  it('names what is wrong in a window', () => {
    expect(() => timePieces({ ...office, start: '9am' }, 'UTC', weekStart)).toThrow(/"9am" is not a time of day/);
    expect(() => timePieces({ ...office, timeZone: 'Mars/Olympus' }, 'UTC', weekStart)).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(() => timePieces({ ...office, weekdays: [] }, 'UTC', weekStart)).toThrow(/at least one weekday/);
  });
});
