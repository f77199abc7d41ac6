import type { JourneyEvent, TypedEvent } from '../events';
import { emptyHistoryNeeds, historyNeedsExceed } from './conditions';
import { decideOnView, emptyCustomerView, historyNeeds, pruneView, timerFired, type CustomerView } from './customer';
import { decideTrigger, evolveTrigger, initialTriggerState } from './definition';
import { triggerProgram, type TriggerProgram } from './program';
import { enabledProgram, History } from './testing';

const DAY = 86_400_000;
const capped = {
  id: 'capped',
  name: 'Capped',
  reentry: 'every',
  entry: { all: [{ event: 'Ping' }, { count: { event: 'Ping', within: '2d', gte: 3 } }] },
  steps: [
    { send: { channel: 'email', body: 'hi' } },
    { wait: { duration: '1h' } },
    { task: { title: 'Call', closeOn: { count: { event: 'Pong', within: '3d', gte: 2 } } } },
  ],
  guards: { frequencyCaps: [{ max: 2, per: '1d', scope: 'customer' }] },
};

/** What the live reactor does per customer: decide on each input at its arrival, fire due timers, prune (or not). */
function live(programs: TriggerProgram[], events: JourneyEvent[], prune: boolean) {
  const view = emptyCustomerView();
  const needs = historyNeeds(programs);
  const decided: JourneyEvent[] = [];
  const timers = new Map<string, TypedEvent<'TimerScheduled'>>();
  let maxKept = 0;
  const decide = (input: JourneyEvent, now: number) => {
    const out = decideOnView(programs, view, input, new Date(now));
    for (const e of out as TypedEvent[]) {
      if (e.type === 'TimerScheduled') timers.set(e.data.timerId, e);
      if (e.type === 'TimerCancelled') timers.delete(e.data.timerId);
    }
    decided.push(...out);
    if (prune) pruneView(view, needs, now);
    maxKept = Math.max(maxKept, view.history.length + view.messages.length + view.timers.size);
  };
  for (const input of events) {
    const now = Date.parse(input.metadata.recordedAt);
    for (const [id, t] of timers)
      if (Date.parse(t.data.dueAt) <= now) {
        timers.delete(id);
        decide(timerFired(t, Date.parse(t.data.dueAt)), Date.parse(t.data.dueAt));
      }
    decide(input, now);
  }
  return { decided, view, maxKept };
}

function pings(n: number): JourneyEvent[] {
  const h = new History();
  let t = Date.parse('2025-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    t += (i % 7) * 3_600_000 + 60_000;
    h.track(new Date(t).toISOString(), i % 5 === 0 ? 'Pong' : 'Ping');
  }
  return h.events;
}

describe('customer views pruned to what the triggers read', () => {
  it('given a trigger with windows, a cap and tasks, when thousands of events arrive, then decisions are the same as with the full view and what is kept stays bounded', () => {
    const programs = [enabledProgram(capped)];
    const few = live(programs, pings(500), true);
    const many = live(programs, pings(2000), true);
    const full = live(programs, pings(2000), false);
    expect(many.decided).toEqual(full.decided);
    expect(full.decided.filter((e) => e.type === 'MessageScheduled').length).toBeGreaterThan(100);
    expect(full.decided.filter((e) => e.type === 'MessageSuppressed').length).toBeGreaterThan(10);
    expect(full.decided.filter((e) => e.type === 'CsmTaskClosed').length).toBeGreaterThan(10);
    // without pruning the view holds every record and message; pruned, the same bound for 500 events and for 2,000
    expect(full.view.history.length).toBeGreaterThan(2000);
    expect(full.view.messages.length).toBeGreaterThan(100);
    expect(many.maxKept).toBeLessThan(200);
    expect(many.maxKept).toBeLessThanOrEqual(Math.max(few.maxKept, 2 * 64) + 10);
    expect(many.view.timers.size).toBeLessThanOrEqual(1);
  });

  it('given a disabled trigger, then only the closeOn of its tasks is read; enabled, its conditions and caps too', () => {
    let state = initialTriggerState('capped');
    const ctx = { workspaceId: 'ws', now: new Date('2025-01-01T00:00:00Z') };
    for (const e of decideTrigger({ type: 'DefineTrigger', definition: capped }, state, ctx)) state = evolveTrigger(state, e);
    const disabled = historyNeeds([triggerProgram(state)]);
    expect({ byName: [...disabled.byName], activityMs: disabled.activityMs, messagesMs: disabled.messagesMs }).toEqual({
      byName: [['Pong', 3 * DAY]],
      activityMs: 0,
      messagesMs: 0,
    });
    for (const e of decideTrigger({ type: 'EnableTrigger' }, state, ctx)) state = evolveTrigger(state, e);
    const enabled = historyNeeds([triggerProgram(state)]);
    expect({ byName: [...enabled.byName], messagesMs: enabled.messagesMs }).toEqual({
      byName: [
        ['Ping', 2 * DAY],
        ['Pong', 3 * DAY],
      ],
      messagesMs: DAY,
    });
    expect(historyNeedsExceed(enabled, disabled)).toBe(true);
    expect(historyNeedsExceed(disabled, enabled)).toBe(false);
    expect(historyNeedsExceed(enabled, enabled)).toBe(false);
    expect(historyNeedsExceed({ ...emptyHistoryNeeds(), byName: new Map([['Other', 0]]) }, enabled)).toBe(true);
  });

  it('given a view pruned for some needs, when it is pruned, then the latest activity and every record a window can still read are kept', () => {
    const view: CustomerView = emptyCustomerView();
    const h = new History();
    for (let d = 1; d <= 100; d++) h.track(`2025-01-${String(1 + (d % 28)).padStart(2, '0')}T00:00:00Z`, d % 2 ? 'Ping' : 'Pong');
    for (const e of h.events) decideOnView([], view, e, new Date('2025-02-01T00:00:00Z'));
    const needs = { ...emptyHistoryNeeds(), byName: new Map([['Ping', 5 * DAY]]) };
    pruneView(view, needs, Date.parse('2025-02-01T00:00:00Z'));
    expect(
      view.history.every((r) =>
        r.name === 'Ping' ? Date.parse('2025-02-01T00:00:00Z') - r.at <= 5 * DAY : r.at === Date.parse('2025-01-28T00:00:00Z'),
      ),
    ).toBe(true);
    expect(view.history.filter((r) => r.name === 'Ping').length).toBeGreaterThan(0);
    // pruned again once it has doubled from what it kept, and never below the floor
    expect(view.pruneAt).toBe(Math.max(8, 2 * (view.history.length + view.messages.length)));
  });
});
