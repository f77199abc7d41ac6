/**
 * Working time in a team's time zone: `addBusinessTime(start, duration, hours, timeZone)` is the instant a duration of
 * working time after `start` ends (an SLA's due time). Pure: `Intl` only (through `localTime` / `zonedTime`), no clock.
 */
import type { Duration } from '../triggers/schema';
import { localTime, parseClock, parseDuration, safeTimeZone, zonedTime } from '../triggers/time';
import type { BusinessHours } from './types';

/** Monday to Friday, 09:00 to 17:00 (local). */
export const DEFAULT_BUSINESS_HOURS: BusinessHours = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

const MINUTE_MS = 60_000;

interface Hours {
  days: ReadonlySet<number>;
  start: { hour: number; minute: number };
  end: { hour: number; minute: number };
  /** Nominal length of a working day (ms), ignoring DST. */
  dayMs: number;
}

function compile(hours: BusinessHours | undefined): Hours {
  const h = hours ?? DEFAULT_BUSINESS_HOURS;
  const start = parseClock(h.start);
  const end = parseClock(h.end);
  const days = new Set(h.days.filter((d) => Number.isInteger(d) && d >= 1 && d <= 7));
  if (!start || !end || days.size === 0 || end.hour * 60 + end.minute <= start.hour * 60 + start.minute)
    throw new Error(`business hours ${JSON.stringify(h)}: need ISO weekdays and a local start before the end (HH:MM)`);
  return { days, start, end, dayMs: (end.hour * 60 + end.minute - start.hour * 60 - start.minute) * MINUTE_MS };
}

/**
 * How much working time a duration is: `s`, `m` and `h` count working time as such (`4h` is four working hours); `d`
 * is that many working days (`2d` with 09:00-17:00 is 16 working hours) and `w` that many working weeks (`1w` of
 * Monday to Friday is five working days). Undefined when `duration` is not one.
 */
export function businessDurationMs(duration: Duration, hours?: BusinessHours): number | undefined {
  const d = parseDuration(duration);
  if (!d) return undefined;
  const h = compile(hours);
  const unit = duration.trim().slice(-1);
  if (unit === 'd') return d.days! * h.dayMs;
  if (unit === 'w') return (d.days! / 7) * h.days.size * h.dayMs;
  return d.ms;
}

/** ISO weekday (1 Monday .. 7 Sunday) of a local calendar date. */
const isoWeekday = (year: number, month: number, day: number): number => {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCDay() === 0 ? 7 : d.getUTCDay();
};

/**
 * The instant `duration` of working time after `start` (ms since the epoch), counting only the business hours of the
 * days they name, local to `timeZone` (default hours: Monday to Friday 09:00-17:00). DST-correct: each day's window is
 * its local start and end as instants of that day. Starting outside working hours, the count begins when they next
 * begin; a due time that falls exactly at the end of a window is that end (not the next morning).
 */
export function addBusinessTime(start: number, duration: Duration, hours: BusinessHours | undefined, timeZone: string): number {
  const total = businessDurationMs(duration, hours);
  if (total === undefined) throw new Error(`invalid duration ${JSON.stringify(duration)}`);
  const h = compile(hours);
  const zone = safeTimeZone(timeZone);
  let remaining = total;
  const first = localTime(start, zone);
  let date = { year: first.year, month: first.month, day: first.day };
  let at = start;
  const weekMs = h.days.size * h.dayMs;
  // Whole working weeks at once while far from the end (a window crossing a DST change, say 01:00-04:00, is counted
  // nominally in the weeks skipped; the last four weeks are counted day by day, exactly).
  if (remaining > 5 * weekMs) {
    const weeks = Math.floor(remaining / weekMs) - 4;
    remaining -= weeks * weekMs;
    date = normalise(date.year, date.month, date.day + 7 * weeks);
    // the same local time of day, weeks later (with the start's seconds)
    at = zonedTime({ ...date, hour: first.hour, minute: first.minute }, zone) + (start - zonedTime(first, zone));
  }
  for (let i = 0; i < 3660; i++) {
    if (h.days.has(isoWeekday(date.year, date.month, date.day))) {
      const open = zonedTime({ ...date, ...h.start }, zone);
      const close = zonedTime({ ...date, ...h.end }, zone);
      const from = Math.max(at, open);
      if (from < close) {
        if (remaining <= close - from) return from + remaining;
        remaining -= close - from;
      }
    }
    date = normalise(date.year, date.month, date.day + 1);
    at = zonedTime({ ...date, hour: 0, minute: 0 }, zone);
  }
  return at + remaining; // unreachable for valid hours (a working day every week); bounded all the same
}

/** A local date with day overflow (day 32) as a real calendar date. */
function normalise(year: number, month: number, day: number): { year: number; month: number; day: number } {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(12, 0, 0, 0);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
