import type { JourneyEvent } from '../events';
import { deterministicId } from '../ids';
import { Backtest, compareAddresses } from './backtest';
import { TRIGGER_SOURCE } from './run';
import { assertValidTrigger } from './validate';
import { History } from './testing';

const nudge = assertValidTrigger({
  id: 'nudge',
  name: 'Activation nudge',
  entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
  exit: [{ when: { event: 'Churned' }, reason: 'churned' }],
  steps: [
    {
      branch: {
        if: { traits: { plan: 'pro' } },
        then: [{ send: { channel: 'email', body: 'pro tips' } }],
        else: [{ send: { channel: 'inbox', body: 'upgrade?' } }],
      },
    },
    { wait: { until: { event: 'Activated' }, timeout: '2d', onTimeout: [{ send: { channel: 'slack', body: 'still stuck' } }] } },
  ],
});

/** Log order across customers: by arrival. */
const interleave = (...histories: History[]) =>
  histories.flatMap((h) => h.events).sort((a, b) => Date.parse(a.metadata.recordedAt) - Date.parse(b.metadata.recordedAt));

function backtest(events: JourneyEvent[], options: { from?: string; to?: string } = {}) {
  const bt = new Backtest({
    workspaceId: 'ws',
    definition: nudge,
    version: 3,
    from: options.from ? new Date(options.from) : undefined,
    to: new Date(options.to ?? '2025-04-01T00:00:00Z'),
  });
  for (const e of events) bt.add(e);
  return bt.report();
}

describe('Backtest', () => {
  const pro = new History('pro');
  pro.identify('2025-03-01T10:00:00Z', { plan: 'pro' });
  const free = new History('free');
  free.identify('2025-03-01T11:00:00Z', { plan: 'free' });
  free.track('2025-03-05T12:00:00Z', 'Activated');
  const active = new History('active');
  active.identify('2025-03-01T12:00:00Z', { plan: 'pro' });
  active.track('2025-03-02T12:00:00Z', 'Activated');

  it('reports per step who entered, which branch they took, how waits ended, what was sent and why runs ended', () => {
    const report = backtest(interleave(pro, free, active));
    expect(report).toMatchObject({ triggerId: 'nudge', version: 3, customers: 3, eventsReplayed: 5, contextEvents: 0, activeAtEnd: 0 });
    expect(report.entered).toMatchObject({ runs: 2, customers: 2 });
    expect([...report.entered.sampleCustomerIds].sort()).toEqual(['free', 'pro']);
    const [branch, sendPro, sendFree, wait, sendStuck] = report.steps;
    expect(report.steps.map((s) => s.step)).toEqual(['0', '0.then.0', '0.else.0', '1', '1.onTimeout.0']);
    expect(branch).toMatchObject({ kind: 'branch', runs: 2, branches: { then: 1, else: 1 } });
    expect(sendPro).toMatchObject({ kind: 'send', label: 'send email', sent: { email: 1 }, sampleCustomerIds: ['pro'] });
    expect(sendFree).toMatchObject({ sent: { inbox: 1 }, sampleCustomerIds: ['free'] });
    expect(wait).toMatchObject({ kind: 'waitUntil', runs: 2, outcomes: { timeout: 1, event: 1 } });
    expect(sendStuck).toMatchObject({ runs: 1, sent: { slack: 1 }, sampleCustomerIds: ['pro'] });
    expect(report.messages).toEqual({ sent: { email: 1, inbox: 1, slack: 1 }, suppressed: {}, deferredByQuietHours: 0 });
    expect(report.exits).toEqual({ completed: 2 });
  });

  it('decides only on events in [from, to): earlier ones are context, timers fire only before `to`', () => {
    // pro's identify is before `from`: context only, so no watch is armed for pro.
    const report = backtest(interleave(pro, free, active), { from: '2025-03-01T10:30:00Z', to: '2025-03-05T00:00:00Z' });
    expect(report).toMatchObject({ eventsReplayed: 3, contextEvents: 1, from: '2025-03-01T10:30:00.000Z' });
    // free entered on 03-04 11:00 and still waits for Activated (that arrives after `to`).
    expect(report.entered).toMatchObject({ runs: 1, sampleCustomerIds: ['free'] });
    expect(report.messages.sent).toEqual({ inbox: 1 });
    expect(report.activeAtEnd).toBe(1);
    expect(report.exits).toEqual({});
  });

  it('ignores the deployed trigger’s bookkeeping in the log but counts other triggers’ messages against caps', () => {
    const capped = assertValidTrigger({
      id: 'nudge',
      name: 'capped',
      reentry: 'every',
      entry: { event: 'Ping' },
      steps: [{ send: { channel: 'email', body: 'hi' } }],
      guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] },
    });
    const h = new History('c1');
    h.track('2025-03-01T10:00:00Z', 'Ping');
    const bookkeeping = (type: string, data: Record<string, unknown>, at: string): JourneyEvent => ({
      id: deterministicId('bk', type, at),
      type,
      data,
      metadata: { workspaceId: 'ws', customerId: 'c1', occurredAt: at, recordedAt: at, source: TRIGGER_SOURCE, schemaVersion: 1 },
    });
    const events = [
      ...h.events,
      // the deployed version already ran for c1: must not make the draft think a run is active
      bookkeeping(
        'TriggerMatched',
        { triggerId: 'nudge', version: 1, runId: 'r1', causingEventId: h.events[0].id },
        '2025-03-01T10:00:00Z',
      ),
      // another trigger's message an hour later: the draft's next send that day is capped
      bookkeeping(
        'MessageScheduled',
        { messageId: 'm-other', channel: 'email', triggerId: 'other', template: { body: 'x' } },
        '2025-03-01T11:00:00Z',
      ),
      bookkeeping(
        'MessageScheduled',
        { messageId: 'm-old', channel: 'email', triggerId: 'nudge', template: { body: 'x' } },
        '2025-03-03T09:00:00Z',
      ),
    ];
    h.track('2025-03-02T09:00:00Z', 'Ping'); // within a day of the other trigger's message
    h.track('2025-03-03T12:00:00Z', 'Ping'); // the deployed nudge's own message is not history for the draft
    const bt = new Backtest({ workspaceId: 'ws', definition: capped, to: new Date('2025-04-01T00:00:00Z') });
    for (const e of [...events, ...h.events.slice(1)]) bt.add(e);
    const report = bt.report();
    expect(report.entered.runs).toBe(3);
    expect(report.steps[0]).toMatchObject({ sent: { email: 2 }, suppressed: { 'frequency-cap': 1 } });
    expect(report.messages.suppressed).toEqual({ 'frequency-cap': 1 });
  });

  it('skips other workspaces and keeps at most `samples` customer ids', () => {
    const histories = Array.from({ length: 8 }, (_, i) => {
      const h = new History(`c${i}`, i === 7 ? 'other-ws' : 'ws');
      h.identify(`2025-03-01T0${i}:00:00Z`, { plan: 'pro' });
      return h;
    });
    const report = backtest(interleave(...histories));
    expect(report.customers).toBe(7);
    expect(report.entered).toEqual({ runs: 7, customers: 7, sampleCustomerIds: ['c0', 'c1', 'c2', 'c3', 'c4'] });
  });

  it('orders step addresses as in the definition', () => {
    expect(['1', '0.else.0', '10', '0', '0.then.1', '0.then.0', '2.onTimeout.0', '2.onEvent.0'].sort(compareAddresses)).toEqual([
      '0',
      '0.then.0',
      '0.then.1',
      '0.else.0',
      '1',
      '2.onEvent.0',
      '2.onTimeout.0',
      '10',
    ]);
  });

  it('reports conversation steps: automated replies by channel, replies suppressed because a person held the conversation, webhooks', () => {
    const triage = assertValidTrigger({
      id: 'triage',
      name: 'Triage',
      reentry: 'every',
      entry: { reply: {} },
      steps: [
        { reply: { body: 'We got your message.' } },
        { webhook: { url: 'https://crm.example.com/notes', body: '{}' } },
        { handoff: { team: 'support', priority: 'high' } },
      ],
    });
    const unheld = new History('u');
    unheld.reply('2025-03-02T10:00:00Z', 'hello', { channel: 'email' });
    const held = new History('h');
    held.reply('2025-03-02T10:00:00Z', 'first');
    held.add(
      'ConversationAssigned',
      { conversationId: 'conv-1', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' },
      '2025-03-02T11:00:00Z',
    );
    held.reply('2025-03-02T12:00:00Z', 'second');
    const bt = new Backtest({ workspaceId: 'ws', definition: triage, to: new Date('2025-04-01T00:00:00Z') });
    for (const e of interleave(unheld, held)) bt.add(e);
    const report = bt.report();
    const [reply, webhook, handoff] = report.steps;
    // the held customer's first reply was answered (the handoff came after it), the second was not
    expect(reply).toMatchObject({ kind: 'reply', label: 'reply: We got your message.', runs: 3, sent: { email: 1, inbox: 1 } });
    expect(reply.suppressed).toEqual({ 'held-by-person': 1 });
    expect(webhook).toMatchObject({ kind: 'webhook', label: 'webhook POST https://crm.example.com/notes', sent: { http: 3 } });
    expect(handoff).toMatchObject({ kind: 'handoff', label: 'hand off to support (high)', runs: 3 });
    expect(report.messages).toMatchObject({ sent: { email: 1, inbox: 1, http: 3 }, suppressed: { 'held-by-person': 1 } });
  });
});
