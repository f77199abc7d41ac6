import { eventTime, occurredTime } from './event-time';

const at = (occurredAt: string, recordedAt: string) => ({
  metadata: { workspaceId: 'w', occurredAt, recordedAt, source: 't', schemaVersion: 1 },
});

describe('event time', () => {
  it('given a valid occurredAt, then both read it (any ISO offset)', () => {
    expect(eventTime(at('2025-03-01T11:00:00+01:00', '2025-03-02T00:00:00Z'))).toBe(Date.parse('2025-03-01T10:00:00Z'));
    expect(occurredTime(at('2025-03-01T10:00:00Z', '2025-03-02T00:00:00Z'))).toBe(Date.parse('2025-03-01T10:00:00Z'));
  });

  it('given an occurredAt that is not a date, then eventTime falls back to recordedAt, occurredTime is NaN', () => {
    expect(eventTime(at('not a time', '2025-03-02T00:00:00Z'))).toBe(Date.parse('2025-03-02T00:00:00Z'));
    expect(occurredTime(at('not a time', '2025-03-02T00:00:00Z'))).toBeNaN();
  });

  it('given neither is a date, then eventTime is NaN', () => {
    expect(eventTime(at('x', 'y'))).toBeNaN();
  });
});
