/**
 * Durations (`30s`, `30m`, `12h`, `3d`, `2w`), dates and the customer's local time. Pure: `Intl` only, no clock.
 * Bounded so no arithmetic on times ever leaves the range a `Date` holds ("Invalid time value"): a duration is at most
 * `MAX_DURATION_DAYS`, a date is between years 0000 and 9999.
 */
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
const DURATION = /^([+-])?(\d+)([smhdw])$/;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The longest duration a trigger may name (waits, windows, `for`, caps, SLAs, offsets, re-entry, event age): 10 years of 365 days. */
export const MAX_DURATION_DAYS = 3650;
export const MAX_DURATION_MS = MAX_DURATION_DAYS * DAY_MS;

/** The dates triggers read (traits, properties, filter bounds): 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. */
export const MIN_DATE_MS = -62_167_219_200_000;
export const MAX_DATE_MS = 253_402_300_799_999;

/** The range of a `Date` (ECMAScript: ±8.64e15 ms). */
const TIME_LIMIT = 8.64e15;

export interface ParsedDuration {
  ms: number;
  /** Whole calendar days (for `d`/`w`), applied to local dates so DST does not shift the hour. */
  days?: number;
  /**
   * Longer than `MAX_DURATION_DAYS`: validation refuses it; `ms` and `days` are clamped to the maximum (a definition
   * stored before the bound still compiles).
   */
  tooLong?: true;
}

export function parseDuration(text: unknown, signed = false): ParsedDuration | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DURATION.exec(text.trim());
  if (!m || (m[1] && !signed)) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const n = Number(m[2]);
  const tooLong = !(n * UNIT_MS[m[3]] <= MAX_DURATION_MS);
  const ms = sign * (tooLong ? MAX_DURATION_MS : n * UNIT_MS[m[3]]);
  const days = m[3] === 'd' ? n : m[3] === 'w' ? n * 7 : undefined;
  return { ms, days: days === undefined ? undefined : sign * Math.min(days, MAX_DURATION_DAYS), ...(tooLong ? { tooLong } : {}) };
}

export function durationMs(text: string): number {
  const d = parseDuration(text, true);
  if (!d) throw new Error(`invalid duration ${text}`);
  return d.ms;
}

/**
 * An instant (ms) as ISO 8601, clamped to the range of a `Date` so it never throws "Invalid time value" (not for NaN:
 * callers refuse a time that is not one).
 */
export function isoTime(ms: number): string {
  return new Date(Math.min(TIME_LIMIT, Math.max(-TIME_LIMIT, ms))).toISOString();
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * A date as triggers read it from a trait or property: an ISO 8601 date or date-time with a 4-digit year (a date-time
 * without an offset is UTC), or milliseconds since the epoch; in years 0000 to 9999. Anything else (`1e300`, NaN,
 * `"next tuesday"`, `"2025-02-30"`, `"+275760-09-13"`) is not a date: undefined. Never throws.
 */
export function dateValue(value: unknown): number | undefined {
  if (typeof value === 'number') return inDateRange(value);
  if (typeof value === 'string') return inDateRange(parseIsoDate(value)?.ms ?? NaN);
  return undefined;
}

const inDateRange = (ms: number): number | undefined => (ms >= MIN_DATE_MS && ms <= MAX_DATE_MS ? ms : undefined);

interface IsoDate {
  ms: number;
  year: number;
  month: number;
  day: number;
  /** A plain date (no time of day). */
  dateOnly: boolean;
}

function parseIsoDate(text: string): IsoDate | undefined {
  const m = ISO_DATE.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let offset = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z') {
    const [oh, om] = [Number(zone.slice(1, 3)), zone.length > 3 ? Number(zone.slice(-2)) : 0];
    if (oh > 23 || om > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return {
    ms: utc(year, month, day, hour, minute) + second * 1000 + Math.floor(fraction) - offset,
    year,
    month,
    day,
    dateOnly: m[4] === undefined,
  };
}

/** `Date.UTC` for any year (it maps years 0-99 to 1900-1999); month 1-12, overflow allowed. */
function utc(year: number, month: number, day: number, hour: number, minute: number): number {
  if (year < 0 || year > 99) return Date.UTC(year, month - 1, day, hour, minute);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, 0, 0);
  return d.getTime();
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function parseClock(text: unknown): { hour: number; minute: number } | undefined {
  const m = typeof text === 'string' ? CLOCK.exec(text) : null;
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}

/** Formatters by zone name: canonical names from `safeTimeZone`, so as many as the zones the runtime knows. */
const formats = new Map<string, Intl.DateTimeFormat>();
function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/**
 * Zone names as customers give them (any case, unknown ones) -> `safeTimeZone`'s answer; emptied when full, so odd
 * spellings cannot grow it.
 */
const zoneNames = new Map<string, string>();
const MAX_ZONE_NAMES = 1024;

/** The time zone's canonical name if the runtime knows it (`europe/paris` is `Europe/Paris`), else UTC. */
export function safeTimeZone(tz: unknown): string {
  if (typeof tz !== 'string' || tz === '') return 'UTC';
  let zone = zoneNames.get(tz);
  if (zone === undefined) {
    try {
      zone = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
      format(zone);
    } catch {
      zone = 'UTC';
    }
    if (zoneNames.size >= MAX_ZONE_NAMES) zoneNames.clear();
    zoneNames.set(tz, zone);
  }
  return zone;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function localTime(at: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute };
}

/** The instant of a local wall-clock time in the zone (day overflow allowed: day 32 is next month). */
export function zonedTime(t: LocalTime, timeZone: string): number {
  const guess = utc(t.year, t.month, t.day, t.hour, t.minute);
  const offsetAt = (ms: number) => {
    const l = localTime(ms, timeZone);
    return utc(l.year, l.month, l.day, l.hour, l.minute) - Math.floor(ms / 60_000) * 60_000;
  };
  const first = guess - offsetAt(guess);
  const second = guess - offsetAt(first);
  return second;
}

/**
 * A date value (see `dateValue`) as a local calendar date in the zone (a plain ISO date is that calendar date);
 * undefined when not a date.
 */
export function localDate(value: unknown, timeZone: string): LocalTime | undefined {
  const d = typeof value === 'string' ? parseIsoDate(value) : undefined;
  if (d?.dateOnly) return { year: d.year, month: d.month, day: d.day, hour: 0, minute: 0 };
  const ms = typeof value === 'string' ? inDateRange(d?.ms ?? NaN) : dateValue(value); // the string parsed once
  return ms === undefined ? undefined : localTime(ms, timeZone);
}

/** Whether `at` falls in the quiet hours; if so, when they end (the instant to defer to). */
export function quietHoursEnd(at: number, timeZone: string, start: string, end: string): number | undefined {
  const s = parseClock(start)!;
  const e = parseClock(end)!;
  const l = localTime(at, timeZone);
  const m = l.hour * 60 + l.minute;
  const sm = s.hour * 60 + s.minute;
  const em = e.hour * 60 + e.minute;
  const quiet = sm < em ? m >= sm && m < em : m >= sm || m < em;
  if (!quiet) return undefined;
  const day = m < em ? l.day : l.day + 1;
  return zonedTime({ year: l.year, month: l.month, day, hour: e.hour, minute: e.minute }, timeZone);
}
