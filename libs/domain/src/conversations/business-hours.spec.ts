import { addBusinessTime, businessDurationMs, DEFAULT_BUSINESS_HOURS } from './business-hours';
import type { BusinessHours } from './types';

const at = (iso: string) => Date.parse(iso);
const due = (start: string, duration: string, hours: BusinessHours | undefined, zone: string) =>
  new Date(addBusinessTime(at(start), duration, hours, zone)).toISOString();

describe('addBusinessTime', () => {
  describe('default hours (Monday to Friday, 09:00-17:00)', () => {
    it('given a start inside working hours, when the duration fits the day, then it is that much later', () => {
      // Wednesday 2025-03-12 10:00 UTC
      expect(due('2025-03-12T10:00:00.000Z', '4h', undefined, 'UTC')).toBe('2025-03-12T14:00:00.000Z');
    });

    it('given a start late in the day, when the duration does not fit, then the rest counts from the next morning', () => {
      expect(due('2025-03-12T15:00:00.000Z', '4h', undefined, 'UTC')).toBe('2025-03-13T11:00:00.000Z');
    });

    it('given a Friday afternoon start, when it runs over the weekend, then it ends on Monday', () => {
      // Friday 2025-03-14 15:30: 1h30 on Friday, 2h30 on Monday
      expect(due('2025-03-14T15:30:00.000Z', '4h', undefined, 'UTC')).toBe('2025-03-17T11:30:00.000Z');
    });

    it('given a start on a Saturday, when counted, then it begins on Monday at 09:00', () => {
      expect(due('2025-03-15T12:00:00.000Z', '1h', undefined, 'UTC')).toBe('2025-03-17T10:00:00.000Z');
    });

    it('given a start before the working day, then it begins at 09:00 that day', () => {
      expect(due('2025-03-12T06:15:00.000Z', '30m', undefined, 'UTC')).toBe('2025-03-12T09:30:00.000Z');
    });

    it('given a start after the working day, then it begins at 09:00 the next working day', () => {
      expect(due('2025-03-12T18:00:00.000Z', '2h', undefined, 'UTC')).toBe('2025-03-13T11:00:00.000Z');
      // Friday evening: Monday
      expect(due('2025-03-14T20:00:00.000Z', '2h', undefined, 'UTC')).toBe('2025-03-17T11:00:00.000Z');
    });

    it('given a duration ending exactly at the end of the day, then it is 17:00, not the next morning', () => {
      expect(due('2025-03-12T09:00:00.000Z', '8h', undefined, 'UTC')).toBe('2025-03-12T17:00:00.000Z');
    });

    it('keeps seconds and milliseconds of the start', () => {
      expect(due('2025-03-12T10:00:42.123Z', '1m', undefined, 'UTC')).toBe('2025-03-12T10:01:42.123Z');
    });

    it('given multi-day durations, then d counts working days and w working weeks', () => {
      // Thursday 10:00 + 2 working days: Monday 10:00
      expect(due('2025-03-13T10:00:00.000Z', '2d', undefined, 'UTC')).toBe('2025-03-17T10:00:00.000Z');
      // 24h of working time: three working days
      expect(due('2025-03-13T10:00:00.000Z', '24h', undefined, 'UTC')).toBe('2025-03-18T10:00:00.000Z');
      // one working week from a Wednesday: the next Wednesday
      expect(due('2025-03-12T11:00:00.000Z', '1w', undefined, 'UTC')).toBe('2025-03-19T11:00:00.000Z');
      expect(businessDurationMs('1w')).toBe(5 * 8 * 3_600_000);
    });

    it('given a very long duration, then whole weeks are skipped and the result is exact', () => {
      // 52 working weeks from Wednesday 2025-03-12 11:00: Wednesday 2026-03-11 11:00
      expect(due('2025-03-12T11:00:00.000Z', '52w', undefined, 'UTC')).toBe('2026-03-11T11:00:00.000Z');
      expect(due('2025-03-12T11:00:00.000Z', '260d', undefined, 'UTC')).toBe('2026-03-11T11:00:00.000Z');
    });
  });

  describe('in the team time zone', () => {
    it('given a team in New York, when the UTC start is before its morning, then the count starts at 09:00 local', () => {
      // 2025-01-15 12:00 UTC is 07:00 EST: start at 09:00 EST = 14:00 UTC
      expect(due('2025-01-15T12:00:00.000Z', '1h', undefined, 'America/New_York')).toBe('2025-01-15T15:00:00.000Z');
    });

    it('given Europe/Berlin, when a count crosses the spring DST change (30 March 2025), then the local hours hold', () => {
      // Friday 2025-03-28 16:00 CET (15:00 UTC) + 2h: 1h on Friday, 1h on Monday 31 March from 09:00 CEST (07:00 UTC)
      expect(due('2025-03-28T15:00:00.000Z', '2h', undefined, 'Europe/Berlin')).toBe('2025-03-31T08:00:00.000Z');
    });

    it('given Europe/Berlin, when a count crosses the autumn DST change (26 October 2025), then the local hours hold', () => {
      // Friday 2025-10-24 16:00 CEST (14:00 UTC) + 2h: Monday 27 October 10:00 CET = 09:00 UTC
      expect(due('2025-10-24T14:00:00.000Z', '2h', undefined, 'Europe/Berlin')).toBe('2025-10-27T09:00:00.000Z');
    });

    it('given America/New_York, when a count crosses the spring DST change (9 March 2025), then the local hours hold', () => {
      // Friday 2025-03-07 16:00 EST (21:00 UTC) + 3h: Monday 10 March 11:00 EDT = 15:00 UTC
      expect(due('2025-03-07T21:00:00.000Z', '3h', undefined, 'America/New_York')).toBe('2025-03-10T15:00:00.000Z');
    });

    it('given America/New_York, when a count crosses the autumn DST change (2 November 2025), then the local hours hold', () => {
      // Friday 2025-10-31 16:00 EDT (20:00 UTC) + 2d: Tuesday 4 November 16:00 EST = 21:00 UTC
      expect(due('2025-10-31T20:00:00.000Z', '2d', undefined, 'America/New_York')).toBe('2025-11-04T21:00:00.000Z');
    });

    it('given hours on the DST day itself (a Sunday team), then the day still has its local window', () => {
      const sundays: BusinessHours = { days: [7], start: '10:00', end: '12:00' };
      // Sunday 2025-03-30 Berlin (the change at 02:00): 10:00 CEST = 08:00 UTC; +1h = 09:00 UTC
      expect(due('2025-03-29T12:00:00.000Z', '1h', sundays, 'Europe/Berlin')).toBe('2025-03-30T09:00:00.000Z');
    });
  });

  describe('custom hours', () => {
    it('given a six-day team with a short day, then only its days and hours count', () => {
      const hours: BusinessHours = { days: [1, 2, 3, 4, 5, 6], start: '08:30', end: '12:30' };
      // Friday 2025-03-14 12:00 + 2h: 30m Friday, 1h30 on Saturday from 08:30 = 10:00
      expect(due('2025-03-14T12:00:00.000Z', '2h', hours, 'UTC')).toBe('2025-03-15T10:00:00.000Z');
      expect(businessDurationMs('1d', hours)).toBe(4 * 3_600_000);
    });

    it('refuses a duration that is not one', () => {
      expect(() => addBusinessTime(0, 'soon', DEFAULT_BUSINESS_HOURS, 'UTC')).toThrow('invalid duration');
    });
  });
});
