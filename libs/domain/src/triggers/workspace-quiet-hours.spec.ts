import type { JourneyEvent } from '../events';
import { decideForMember, type MemberContext } from '../broadcasts/broadcast';
import { SettingsError, validSettings } from '../conversations/settings';
import { simulateCustomer } from './customer';
import { checkGuards, effectiveQuietHours, type GuardContext, type QuietHours } from './guards';
import { enabledProgram, History, ofType } from './testing';
import { validateTrigger } from './validate';

/** The workspace default quiet hours (settings `quietHours`) against a trigger's or broadcast's own. */
const NIGHT: QuietHours = { start: '21:00', end: '08:00' };
const tip = (guards?: unknown) =>
  enabledProgram({
    id: 'tip',
    name: 'Tip',
    reentry: 'every',
    entry: { event: 'Tip Requested' },
    ...(guards !== undefined ? { guards } : {}),
    steps: [{ send: { channel: 'email', subject: 'Tip', body: 'Tip' } }],
  });
const atNight = () => {
  const h = new History();
  h.identify('2025-03-01T00:00:00Z', { timezone: 'Europe/Paris' });
  h.track('2025-03-03T21:30:00Z', 'Tip Requested'); // 22:30 in Paris
  return h.events;
};
const scheduled = (events: JourneyEvent[]) => ofType(events, 'MessageScheduled');
const quietVerdict = (e: JourneyEvent) =>
  (e.data.guards as Array<{ guard: string; verdict: string; detail: string }>).find((g) => g.guard === 'quiet-hours');

describe('workspace default quiet hours', () => {
  it('given a workspace default and a trigger without quiet hours, when it sends at night, then the send is deferred to the default end', () => {
    const [message] = scheduled(simulateCustomer([tip()], atNight(), undefined, { workspaceQuietHours: NIGHT }).decided);
    expect(message.data.notBefore).toBe('2025-03-04T07:00:00.000Z'); // 08:00 in Paris
    expect(quietVerdict(message)).toEqual({
      guard: 'quiet-hours',
      verdict: 'deferred',
      detail: 'inside quiet hours 21:00-08:00 Europe/Paris (workspace default): deferred to 2025-03-04T07:00:00.000Z',
    });
  });

  it('given no workspace default, when the same trigger sends at night, then it goes out at once with no quiet-hours guard', () => {
    const [message] = scheduled(simulateCustomer([tip()], atNight()).decided);
    expect(message.data.notBefore).toBeUndefined();
    expect(quietVerdict(message)).toBeUndefined();
  });

  it("given a workspace default and a trigger with its own quiet hours, then the trigger's own window wins", () => {
    // own 23:00-07:00: 22:30 is outside it, though inside the default
    const [outside] = scheduled(
      simulateCustomer([tip({ quietHours: { start: '23:00', end: '07:00' } })], atNight(), undefined, { workspaceQuietHours: NIGHT })
        .decided,
    );
    expect(outside.data.notBefore).toBeUndefined();
    expect(quietVerdict(outside)).toMatchObject({ verdict: 'passed', detail: 'outside quiet hours 23:00-07:00 Europe/Paris' });
    // own 22:00-09:00: deferred to its own end, not the default's
    const [inside] = scheduled(
      simulateCustomer([tip({ quietHours: { start: '22:00', end: '09:00' } })], atNight(), undefined, { workspaceQuietHours: NIGHT })
        .decided,
    );
    expect(inside.data.notBefore).toBe('2025-03-04T08:00:00.000Z');
  });

  it('given a workspace default and a trigger with quietHours: none, then it sends at night, saying the default does not apply', () => {
    const [message] = scheduled(
      simulateCustomer([tip({ quietHours: 'none' })], atNight(), undefined, { workspaceQuietHours: NIGHT }).decided,
    );
    expect(message.data.notBefore).toBeUndefined();
    expect(quietVerdict(message)).toEqual({
      guard: 'quiet-hours',
      verdict: 'passed',
      detail: 'quiet hours off (quietHours: none), the workspace default 21:00-08:00 does not apply',
    });
  });

  it('effectiveQuietHours: own wins, none opts out, else the workspace default', () => {
    expect(effectiveQuietHours(undefined, NIGHT)).toEqual({ quietHours: NIGHT, from: 'workspace' });
    expect(effectiveQuietHours({ start: '22:00', end: '06:00' }, NIGHT)).toEqual({
      quietHours: { start: '22:00', end: '06:00' },
      from: 'own',
    });
    expect(effectiveQuietHours('none', NIGHT)).toEqual({ from: 'none' });
    expect(effectiveQuietHours(undefined, undefined)).toEqual({ from: 'none' });
  });

  it('checkGuards: the default applies in the customer time zone, daytime passes', () => {
    const ctx = (now: string): GuardContext => ({
      now: Date.parse(now),
      traits: {},
      timeZone: 'America/New_York',
      messages: [],
      workspaceQuietHours: NIGHT,
    });
    const policy = { triggerId: 't', priority: 0, caps: [] };
    expect(checkGuards(policy, { channel: 'email' }, ctx('2025-03-05T03:00:00Z')).notBefore).toBe(Date.parse('2025-03-05T13:00:00Z'));
    const day = checkGuards(policy, { channel: 'email' }, ctx('2025-03-05T17:00:00Z'));
    expect(day.notBefore).toBeUndefined();
    expect(day).toMatchObject({
      guards: expect.arrayContaining([
        { guard: 'quiet-hours', verdict: 'passed', detail: 'outside quiet hours 21:00-08:00 America/New_York (workspace default)' },
      ]),
    });
  });

  describe('a broadcast', () => {
    const broadcast = (guards?: { quietHours?: QuietHours | 'none' }) => ({
      broadcastId: 'b1',
      segmentId: 'all',
      send: { channel: 'email', subject: 'News', body: 'News' },
      startAt: '2025-03-03T21:30:00Z',
      ...(guards ? { guards } : {}),
    });
    const decide = (b: ReturnType<typeof broadcast>, quiet?: QuietHours) => {
      const h = new History();
      h.identify('2025-03-01T00:00:00Z', { timezone: 'Europe/Paris' });
      h.add('SegmentEntered', { segmentId: 'all', version: 1 }, '2025-03-02T00:00:00Z');
      const [first] = h.events;
      const ctx: MemberContext = {
        workspaceId: first.metadata.workspaceId,
        customerId: first.metadata.customerId,
        now: new Date('2025-03-03T21:30:00Z'), // 22:30 in Paris
        cause: first,
        ...(quiet ? { workspaceQuietHours: quiet } : {}),
      };
      return decideForMember(b, h.events, ctx);
    };

    it('given a workspace default and a broadcast without quiet hours, then its message waits for the default end; its own setting wins; none opts out', () => {
      const deferred = scheduled(decide(broadcast(), NIGHT).events);
      expect(deferred.map((e) => e.data.notBefore)).toEqual(['2025-03-04T07:00:00.000Z']);
      const own = scheduled(decide(broadcast({ quietHours: { start: '22:00', end: '09:00' } }), NIGHT).events);
      expect(own.map((e) => e.data.notBefore)).toEqual(['2025-03-04T08:00:00.000Z']);
      const none = scheduled(decide(broadcast({ quietHours: 'none' }), NIGHT).events);
      expect(none.map((e) => e.data.notBefore)).toEqual([undefined]);
      expect(scheduled(decide(broadcast()).events).map((e) => e.data.notBefore)).toEqual([undefined]);
    });
  });

  describe('validation', () => {
    it('settings: quietHours takes { start, end } local times and names what is wrong', () => {
      expect(validSettings({ quietHours: { start: '21:00', end: '08:00' } })).toEqual({ quietHours: NIGHT });
      expect(() => validSettings({ quietHours: { start: '25:00', end: '08:00' } })).toThrow(
        new SettingsError('quietHours.start: expected a local time like "21:00", got "25:00"'),
      );
      expect(() => validSettings({ quietHours: { start: '21:00' } })).toThrow(/quietHours\.end: is required/);
      expect(() => validSettings({ quietHours: { start: '21:00', end: '08:00', zone: 'UTC' } })).toThrow(
        /quietHours\.zone: unknown setting \(known: start, end\)/,
      );
      expect(() => validSettings({ quietHours: 'none' })).toThrow(/quietHours: must be an object/);
    });

    it('a trigger: guards.quietHours is { start, end } or "none"', () => {
      const ports = { channels: ['email'] } as never;
      const doc = (quietHours: unknown) => ({
        id: 't',
        name: 'T',
        entry: { event: 'E' },
        guards: { quietHours },
        steps: [{ send: { channel: 'email', body: 'x' } }],
      });
      expect(validateTrigger(doc('none'), ports).ok).toBe(true);
      const off = validateTrigger(doc('off'), ports);
      expect(off.ok).toBe(false);
      expect(JSON.stringify(off)).toContain('expected { start, end } or \\"none\\"');
    });
  });
});
