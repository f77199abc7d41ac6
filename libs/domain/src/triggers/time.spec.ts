import { MAX_DATE_MS, MAX_DURATION_MS, MIN_DATE_MS, dateValue, isoTime, localDate, parseDuration, safeTimeZone, zonedTime } from './time';

describe('durations and dates', () => {
  it('given a duration beyond 10 years, then it is flagged tooLong and clamped to the maximum (a stored definition still compiles)', () => {
    expect(parseDuration('3650d')).toEqual({ ms: MAX_DURATION_MS, days: 3650 });
    expect(parseDuration('3651d')).toEqual({ ms: MAX_DURATION_MS, days: 3650, tooLong: true });
    expect(parseDuration('999999999999d')).toEqual({ ms: MAX_DURATION_MS, days: 3650, tooLong: true });
    expect(parseDuration('-999999999999w', true)).toEqual({ ms: -MAX_DURATION_MS, days: -3650, tooLong: true });
    expect(parseDuration(`${'9'.repeat(400)}s`)).toEqual({ ms: MAX_DURATION_MS, tooLong: true });
    expect(parseDuration('87601h')?.tooLong).toBe(true);
    expect(parseDuration('87600h')).toEqual({ ms: MAX_DURATION_MS });
  });

  it.each([
    ['1e300 (a number)', 1e300],
    ['-1e300', -1e300],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['an absurd string', 'next tuesday'],
    ['a number in a string', '1e300'],
    ['a year beyond 9999', '10000-01-01'],
    ['an expanded ISO year', '+275760-09-13T00:00:00Z'],
    ['a negative expanded year', '-271821-04-20T00:00:00Z'],
    ['a day that does not exist', '2025-02-30'],
    ['a month that does not exist', '2025-13-01'],
    ['an hour that does not exist', '2025-01-01T25:00:00Z'],
    ['an object', { date: '2025-01-01' }],
    ['a boolean', true],
  ])('given %s, then it is not a date (undefined, never a throw)', (_name, value) => {
    expect(dateValue(value)).toBeUndefined();
    expect(localDate(value, 'Europe/Paris')).toBeUndefined();
  });

  it('given ISO dates and epoch milliseconds within years 0000 to 9999, then they are dates', () => {
    expect(dateValue('2025-06-30')).toBe(Date.parse('2025-06-30T00:00:00Z'));
    expect(dateValue('2025-06-30T10:15:30.250Z')).toBe(Date.parse('2025-06-30T10:15:30.250Z'));
    expect(dateValue('2025-06-30T10:15:30+02:00')).toBe(Date.parse('2025-06-30T08:15:30Z'));
    expect(dateValue('2025-06-30 10:15')).toBe(Date.parse('2025-06-30T10:15:00Z'));
    expect(dateValue('2024-02-29')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(dateValue('0050-01-01')).toBe(Date.parse('0050-01-01T00:00:00Z'));
    expect(dateValue('9999-12-31T23:59:59.999Z')).toBe(MAX_DATE_MS);
    expect(dateValue(MIN_DATE_MS)).toBe(MIN_DATE_MS);
    expect(dateValue(MAX_DATE_MS + 1)).toBeUndefined();
    expect(dateValue(1_750_000_000_000)).toBe(1_750_000_000_000);
    expect(localDate('2025-06-30', 'Europe/Paris')).toEqual({ year: 2025, month: 6, day: 30, hour: 0, minute: 0 });
    expect(localDate('2025-06-30T23:30:00Z', 'Europe/Paris')).toEqual({ year: 2025, month: 7, day: 1, hour: 1, minute: 30 });
  });

  it('given local times in years 0-99, then zonedTime does not read them as 1900-1999', () => {
    expect(new Date(zonedTime({ year: 50, month: 1, day: 1, hour: 9, minute: 0 }, 'UTC')).toISOString()).toBe('0050-01-01T09:00:00.000Z');
  });

  it('given an instant beyond what a Date holds, then isoTime clamps it instead of throwing "Invalid time value"', () => {
    expect(isoTime(Date.parse('2025-01-01T00:00:00Z'))).toBe('2025-01-01T00:00:00.000Z');
    expect(isoTime(1e300)).toBe('+275760-09-13T00:00:00.000Z');
    expect(isoTime(-1e300)).toBe('-271821-04-20T00:00:00.000Z');
  });

  it('given a time zone in any spelling, then safeTimeZone answers its canonical name (formatters are kept per zone, not per spelling), unknown ones UTC', () => {
    expect(safeTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(safeTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(safeTimeZone('EUROPE/PARIS')).toBe('Europe/Paris');
    expect(safeTimeZone('Mars/Olympus')).toBe('UTC');
    expect(safeTimeZone(42)).toBe('UTC');
  });
});
