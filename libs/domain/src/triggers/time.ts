/** Durations (`30s`, `30m`, `12h`, `3d`, `2w`) and the customer's local time. Pure: `Intl` only, no clock. */
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^([+-])?(\d+)([smhdw])$/;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

export interface ParsedDuration {
  ms: number;
  /** Whole calendar days (for `d`/`w`), applied to local dates so DST does not shift the hour. */
  days?: number;
}

export function parseDuration(text: unknown, signed = false): ParsedDuration | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DURATION.exec(text.trim());
  if (!m || (m[1] && !signed)) return undefined;
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  return { ms: n * UNIT_MS[m[3]], days: m[3] === 'd' ? n : m[3] === 'w' ? n * 7 : undefined };
}

export function durationMs(text: string): number {
  const d = parseDuration(text, true);
  if (!d) throw new Error(`invalid duration ${text}`);
  return d.ms;
}

export function parseClock(text: unknown): { hour: number; minute: number } | undefined {
  const m = typeof text === 'string' ? CLOCK.exec(text) : null;
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}

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

/** The time zone if the runtime knows it, else UTC. */
export function safeTimeZone(tz: unknown): string {
  if (typeof tz !== 'string' || tz === '') return 'UTC';
  try {
    format(tz);
    return tz;
  } catch {
    return 'UTC';
  }
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
  const guess = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
  const offsetAt = (ms: number) => {
    const l = localTime(ms, timeZone);
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute) - Math.floor(ms / 60_000) * 60_000;
  };
  const first = guess - offsetAt(guess);
  const second = guess - offsetAt(first);
  return second;
}

/** A date value (ISO date or date-time) as a local calendar date in the zone. */
export function localDate(value: unknown, timeZone: string): LocalTime | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [year, month, day] = value.split('-').map(Number);
    return { year, month, day, hour: 0, minute: 0 };
  }
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? localTime(ms, timeZone) : undefined;
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
