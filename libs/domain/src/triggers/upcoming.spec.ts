import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envelope } from '../envelope';
import type { JourneyEvent } from '../events';
import { simulateCustomer } from './customer';
import { enabledProgram, History } from './testing';
import { localTimeLabel, pendingTimers, signalEvents, upcomingTimeline } from './upcoming';
import { parseTrigger } from './validate';

const library = (id: string) => {
  const parsed = parseTrigger(readFileSync(join(__dirname, '../../../../triggers/library', `${id}.yaml`), 'utf8'));
  if (!parsed.ok) throw new Error(id);
  return enabledProgram(parsed.definition);
};
const DAY = 86_400_000;

/** The customer's stream as the engine would hold it at `now`: the history and everything the triggers decided by then. */
const storedAt = (programs: ReturnType<typeof library>[], h: History, now: string) =>
  simulateCustomer(programs, h.events, new Date(now)).stream;

describe('upcoming: a customer`s forward timeline', () => {
  const nudge = [library('onboarding-activation-nudge')];

  it('given a sign-up in Berlin, when asked an hour later, then the nudge`s entry watch is due in 3 days (local time) unless Activated, and the simulation says what it would send', () => {
    const h = new History('ada');
    h.identify('2026-03-03T08:00:00Z', { name: 'Ada', timezone: 'Europe/Berlin' });
    const stream = storedAt(nudge, h, '2026-03-03T09:00:00Z');
    const u = upcomingTimeline(nudge, stream, { now: new Date('2026-03-03T09:00:00Z'), horizonMs: 30 * DAY });
    expect(u.timeZone).toBe('Europe/Berlin');
    expect(u.timers).toHaveLength(1);
    const [t] = u.timers;
    expect(t).toMatchObject({
      kind: 'trigger-entry',
      triggerId: 'onboarding-activation-nudge',
      triggerName: 'Activation nudge',
      version: 1,
      dueAt: '2026-03-06T08:00:00.000Z',
      dueLocal: '6 Mar 09:00 Europe/Berlin',
      unless: ['Activated'],
    });
    expect(t.description).toMatch(
      /^Activation nudge \(trigger onboarding-activation-nudge v1\) due 6 Mar 09:00 Europe\/Berlin unless Activated: then email "Need a hand getting started\?" \(onboarding-activation-nudge\) at 6 Mar 09:00 Europe\/Berlin; /,
    );
    expect(u.decisions.map((d) => `${d.kind} ${d.channel ?? d.reason} ${d.atLocal}`)).toEqual([
      'send email 6 Mar 09:00 Europe/Berlin',
      'send inbox 8 Mar 09:00 Europe/Berlin',
      'exit completed 8 Mar 09:00 Europe/Berlin',
    ]);
    expect(u.decisions.every((d) => d.timerId === t.timerId)).toBe(true);
  });

  it('given the customer activated, then nothing is pending and nothing would happen', () => {
    const h = new History('bo');
    h.identify('2026-03-03T08:00:00Z', { timezone: 'Europe/Berlin' });
    h.track('2026-03-04T08:00:00Z', 'Activated');
    const stream = storedAt(nudge, h, '2026-03-04T09:00:00Z');
    const u = upcomingTimeline(nudge, stream, { now: new Date('2026-03-04T09:00:00Z'), horizonMs: 30 * DAY });
    expect(u.timers).toEqual([]);
    expect(u.decisions).toEqual([]);
  });

  it('given a run waiting in a `wait until`, then its timer is a trigger wait naming the awaited event and the exit rules', () => {
    const h = new History('cy');
    h.identify('2026-03-03T08:00:00Z', { name: 'Cy' });
    const stream = storedAt(nudge, h, '2026-03-07T00:00:00Z'); // the email went out on the 6th; the run waits for Activated
    const u = upcomingTimeline(nudge, stream, { now: new Date('2026-03-07T00:00:00Z'), horizonMs: 30 * DAY });
    expect(u.timers.map((t) => [t.kind, t.step, t.unless, t.dueLocal])).toEqual([['trigger-wait', '1', ['Activated'], '8 Mar 08:00 UTC']]);
    expect(u.timers[0].description).toBe(
      'Activation nudge (trigger onboarding-activation-nudge v1) waits for Activated (step 1) due 8 Mar 08:00 UTC unless Activated: then inbox "Create your first project in 2 minutes: open Projects > New." (onboarding-activation-nudge) at 8 Mar 08:00 UTC; onboarding-activation-nudge ends (completed) at 8 Mar 08:00 UTC',
    );
  });

  it('given a horizon shorter than the wait, then the timer is listed and nothing is forecast after the horizon', () => {
    const h = new History('di');
    h.identify('2026-03-03T08:00:00Z');
    const stream = storedAt(nudge, h, '2026-03-03T09:00:00Z');
    const u = upcomingTimeline(nudge, stream, { now: new Date('2026-03-03T09:00:00Z'), horizonMs: 4 * DAY });
    expect(u.horizon).toBe('2026-03-07T09:00:00.000Z');
    expect(u.timers).toHaveLength(1);
    expect(u.decisions.map((d) => `${d.kind} ${d.channel}`)).toEqual(['send email']); // the inbox message is on the 8th
  });

  it('given a wait of a sequence, then each later step is forecast in turn (timers the forecast schedules fire too)', () => {
    const renewal = [library('renewal-sequence')];
    const h = new History('gus');
    h.identify('2026-01-10T12:00:00Z', { timezone: 'America/Los_Angeles', renewal_date: '2026-07-01' });
    const stream = storedAt(renewal, h, '2026-01-11T00:00:00Z');
    const u = upcomingTimeline(renewal, stream, { now: new Date('2026-01-11T00:00:00Z'), horizonMs: 200 * DAY });
    expect(u.timers[0]).toMatchObject({
      kind: 'trigger-entry',
      dueLocal: '2 Apr 09:00 America/Los_Angeles',
      unless: ['trait renewal_date changed'],
    });
    expect(u.decisions.filter((d) => d.kind === 'send').map((d) => `${d.subject} ${d.atLocal}`)).toEqual([
      'Your renewal is in 90 days 2 Apr 09:00 America/Los_Angeles',
      'Your renewal is in 60 days 2 May 09:00 America/Los_Angeles',
      'Your renewal is in 30 days 1 Jun 09:00 America/Los_Angeles',
    ]);
    expect(u.decisions.find((d) => d.kind === 'stage')?.description).toBe('stage none -> renewal at 1 Jun 09:00 America/Los_Angeles');
  });

  it('given the trigger was disabled since its watch was armed, then the watch is listed as one that will not act, and nothing is forecast', () => {
    const h = new History('eli');
    h.identify('2026-03-03T08:00:00Z');
    const stream = storedAt(nudge, h, '2026-03-03T09:00:00Z');
    const disabled = [{ ...nudge[0], enabled: false }];
    const u = upcomingTimeline(disabled, stream, { now: new Date('2026-03-03T09:00:00Z'), horizonMs: 30 * DAY });
    expect(u.timers[0].description).toBe(
      'Activation nudge (trigger onboarding-activation-nudge v1) due 6 Mar 08:00 UTC unless Activated (trigger disabled: it will not act)',
    );
    expect(u.decisions).toEqual([]);
  });

  it('given SLA, snooze, segment and broadcast timers, then they are listed in words; fired, cancelled and shadow ones are not', () => {
    let n = 0;
    const e = (type: string, data: Record<string, unknown>): JourneyEvent =>
      envelope({
        id: `e${n++}`,
        type,
        data,
        workspaceId: 'ws',
        customerId: 'c1',
        occurredAt: '2026-03-01T10:00:00Z',
        recordedAt: '2026-03-01T10:00:00Z',
        source: 'test',
      });
    const stream = [
      e('CustomerIdentified', { userId: 'c1', traits: { timezone: 'Asia/Tokyo' } }),
      e('TimerScheduled', {
        timerId: 'sla-1',
        dueAt: '2026-03-01T12:00:00Z',
        purpose: 'sla',
        payload: { subject: 'conversation', id: 'conv-1', target: 'first-response', team: 'support' },
      }),
      e('TimerScheduled', { timerId: 'snooze-1', dueAt: '2026-03-02T00:00:00Z', purpose: 'snooze', payload: { conversationId: 'conv-2' } }),
      e('TimerScheduled', { timerId: 'seg-1', dueAt: '2026-03-05T00:00:00Z', purpose: 'segment:trial-ending' }),
      e('TimerScheduled', { timerId: 'bc-1', dueAt: '2026-03-04T00:00:00Z', purpose: 'broadcast:spring-launch' }),
      e('TimerScheduled', { timerId: 'gone-1', dueAt: '2026-03-03T00:00:00Z', purpose: 'sla' }),
      e('TimerScheduled', { timerId: 'gone-2', dueAt: '2026-03-03T00:00:00Z', purpose: 'snooze' }),
      e('TimerScheduled', {
        timerId: 'shadow-1',
        dueAt: '2026-03-03T00:00:00Z',
        purpose: 'trigger:nudge',
        payload: { kind: 'step', runId: 'r1', step: '0', shadow: true },
      }),
      e('TimerFired', { timerId: 'gone-1', purpose: 'sla' }),
      e('TimerCancelled', { timerId: 'gone-2', reason: 'resolved' }),
    ];
    expect(pendingTimers(stream).map((t) => t.data.timerId)).toEqual(['sla-1', 'snooze-1', 'bc-1', 'seg-1']);
    const u = upcomingTimeline([], stream, { now: new Date('2026-03-01T10:00:00Z'), horizonMs: 30 * DAY });
    expect(u.timers.map((t) => `${t.kind}: ${t.description}`)).toEqual([
      'sla: SLA first-response of conversation conv-1 (team support) due 1 Mar 21:00 Asia/Tokyo',
      'snooze: snoozed conversation conv-2 reopens due 2 Mar 09:00 Asia/Tokyo',
      'broadcast: broadcast spring-launch goes out due 4 Mar 09:00 Asia/Tokyo',
      'segment: segment trial-ending membership is re-evaluated due 5 Mar 09:00 Asia/Tokyo',
    ]);
  });

  it('names the events a condition waits for, leaving out what must not happen', () => {
    expect(
      signalEvents({
        any: [{ event: 'Activated' }, { event: 'Project Created' }, { stage: { entered: 'active' } }, { not: { event: 'X' } }],
      }),
    ).toEqual(['Activated', 'Project Created', 'stage entered active']);
    expect(localTimeLabel(Date.parse('2027-01-02T08:05:00Z'), 'Europe/Berlin', Date.parse('2026-12-31T00:00:00Z'))).toBe(
      '2 Jan 2027 09:05 Europe/Berlin',
    );
  });
});
