/**
 * Triggers in conversations, given/when/then through `simulateCustomer` (the reactor's and the backtest's deciders):
 * the reply signal (channel, words, sentiment), the conversation steps (reply, tag, handoff, resolve), the webhook
 * step, and the rule that automation never answers in a conversation a person holds.
 */
import type { JourneyEvent } from '../events';
import { applyToView, decideOnView, emptyCustomerView, simulateCustomer, timerFired } from './customer';
import { conversationsFromStream } from '../conversations/conversation';
import { enabledProgram, History, ofType } from './testing';
import type { ReplyRenderer, ReplyScope } from './run';

const T0 = '2025-03-03T10:00:00Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const kinds = (events: JourneyEvent[]) => events.map((e) => e.type);
const data = (events: JourneyEvent[], type: string) => ofType(events, type as never).map((e) => e.data);

const negativeToSupport = enabledProgram({
  id: 'negative-to-support',
  name: 'Unhappy customer',
  reentry: 'every',
  entry: { reply: { sentiment: { lt: -0.3 } } },
  steps: [
    { tag: { tags: ['unhappy'] } },
    { handoff: { team: 'support', priority: 'high' } },
    { reply: { body: 'Someone will be with you shortly.' } },
  ],
});
const thanksResolves = enabledProgram({
  id: 'thanks-resolves',
  name: 'Thanks closes it',
  reentry: 'every',
  entry: { reply: { contains: ['thanks', 'thank you'], sentiment: { gte: 0 } } },
  steps: [{ reply: { body: 'Glad we could help!' } }, { resolve: {} }],
});

describe('the reply signal', () => {
  it('given a reply with a negative score, when it arrives, then the run tags and queues its conversation for the team, high priority', () => {
    const h = new History();
    const cause = h.reply(T0, 'This is still broken and I am really frustrated', { conversationId: 'c-7', sentiment: -0.78 });
    const { decided } = simulateCustomer([negativeToSupport], h.events);
    expect(kinds(decided)).toEqual([
      'TriggerMatched',
      'TriggerRunStepEntered',
      'ConversationTagged',
      'TriggerRunStepEntered',
      'ConversationAssigned',
      'TriggerRunStepEntered',
      'MessageSuppressed',
      'TriggerRunExited',
    ]);
    const runId = decided[0].data.runId;
    expect(data(decided, 'ConversationTagged')).toEqual([{ conversationId: 'c-7', tags: ['unhappy'] }]);
    expect(data(decided, 'ConversationAssigned')).toEqual([
      { conversationId: 'c-7', team: 'support', priority: 'high', reason: 'queued', triggerId: 'negative-to-support', runId },
    ]);
    // queued for a team is held: its own reply step does not answer any more
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ reason: 'held-by-person', channel: 'inbox', step: '2', runId }]);
    expect(decided.every((e) => e.metadata.causationId === cause.id)).toBe(true);
    expect(simulateCustomer([negativeToSupport], h.events).decided.map((e) => e.id)).toEqual(decided.map((e) => e.id));
  });

  it('given replies that are neutral, positive or unscored, then the sentiment condition does not match', () => {
    const h = new History();
    h.reply(T0, 'How do I export my invoices?', { sentiment: 0 });
    h.reply(at(1), 'Love it', { sentiment: 0.64 });
    h.reply(at(2), 'no score recorded');
    expect(simulateCustomer([negativeToSupport], h.events).decided).toEqual([]);
  });

  it('given words to look for, then they match whole words, case-insensitive, any of them, phrases too', () => {
    const matches = (body: string) => {
      const h = new History();
      h.reply(T0, body, { sentiment: 0.5 });
      return ofType(simulateCustomer([thanksResolves], h.events).decided, 'TriggerMatched').length === 1;
    };
    expect(matches('THANKS, that fixed it!')).toBe(true);
    expect(matches('Thank you so much')).toBe(true);
    expect(matches('ok thank   you')).toBe(true);
    expect(matches('Thanksgiving plans')).toBe(false);
    expect(matches('thank everyone, you are great')).toBe(false);
  });

  it('given a channel, then a reply on another channel does not match', () => {
    const p = enabledProgram({
      id: 'email-only',
      name: 'Email replies',
      reentry: 'every',
      entry: { reply: { channel: 'email' } },
      steps: [{ tag: { tags: ['email'] } }],
    });
    const h = new History();
    h.reply(T0, 'via the app', { conversationId: 'a', channel: 'inbox' });
    h.reply(at(1), 'via mail', { conversationId: 'b', channel: 'email' });
    expect(data(simulateCustomer([p], h.events).decided, 'ConversationTagged')).toEqual([{ conversationId: 'b', tags: ['email'] }]);
  });

  it('given a reply as a wait condition, when it arrives, then the run goes on in the conversation of that reply', () => {
    const p = enabledProgram({
      id: 'ask-then-answer',
      name: 'Ask then answer',
      entry: { event: 'Trial Ending' },
      steps: [
        { send: { channel: 'inbox', body: 'Shall we extend your trial? Reply yes.' } },
        { wait: { until: { reply: { contains: 'yes' } }, timeout: '3d', onEvent: [{ reply: { body: 'Done: 7 more days.' } }] } },
      ],
    });
    const h = new History();
    h.track(T0, 'Trial Ending');
    h.reply(at(5), 'maybe later', { conversationId: 'x' });
    h.reply(at(10), 'Yes please!', { conversationId: 'y', channel: 'email' });
    const { decided } = simulateCustomer([p], h.events);
    expect(data(decided, 'AgentReplied')).toEqual([
      {
        conversationId: 'y',
        messageId: expect.any(String),
        channel: 'email',
        body: 'Done: 7 more days.',
        automated: true,
        triggerId: 'ask-then-answer',
        runId: decided[0].data.runId,
      },
    ]);
  });
});

describe('once a person holds a conversation, automation never answers in it until it is resolved', () => {
  it('given a conversation nobody holds, when "thanks" arrives, then automation answers and resolves it', () => {
    const h = new History();
    h.reply(T0, 'Thanks, that fixed it!', { sentiment: 0.49 });
    const { decided } = simulateCustomer([thanksResolves], h.events);
    expect(data(decided, 'AgentReplied')).toMatchObject([{ conversationId: 'conv-1', body: 'Glad we could help!', automated: true }]);
    expect(data(decided, 'ConversationResolved')).toEqual([{ conversationId: 'conv-1', automated: true }]);
  });

  it('given a member holds it, when "thanks" arrives, then no reply (suppressed: held-by-person) and no resolve', () => {
    const h = new History();
    h.reply(T0, 'The export fails', { sentiment: -0.4 });
    h.add(
      'ConversationAssigned',
      { conversationId: 'conv-1', team: 'support', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' },
      at(1),
    );
    h.add('AgentReplied', { conversationId: 'conv-1', messageId: 'a1', channel: 'inbox', body: 'Looking into it', by: 'ann' }, at(2));
    h.reply(at(3), 'Thanks, that fixed it!', { sentiment: 0.49 });
    const { decided } = simulateCustomer([thanksResolves], h.events);
    expect(ofType(decided, 'AgentReplied')).toEqual([]);
    expect(ofType(decided, 'ConversationResolved')).toEqual([]);
    expect(data(decided, 'MessageSuppressed')).toMatchObject([
      {
        reason: 'held-by-person',
        detail: 'conversation conv-1 is held by a person: automation does not answer in it until it is resolved',
        guards: [{ guard: 'conversation', verdict: 'suppressed' }],
        triggerId: 'thanks-resolves',
        step: '0',
      },
    ]);
  });

  it('given the person resolved it, then the customer writing again reopens it to them (held again), while a new conversation is answered', () => {
    const h = new History();
    h.reply(T0, 'help', { sentiment: 0 });
    h.add('ConversationAssigned', { conversationId: 'conv-1', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' }, at(1));
    h.add('ConversationResolved', { conversationId: 'conv-1', by: 'ann' }, at(2));
    h.add('ConversationReopened', { conversationId: 'conv-1', reason: 'customer-replied' }, at(3));
    h.reply(at(3), 'thanks again', { sentiment: 0.4 });
    h.reply(at(4), 'thank you, new question solved', { conversationId: 'conv-2', sentiment: 0.4 });
    const { decided } = simulateCustomer([thanksResolves], h.events);
    expect(data(decided, 'MessageSuppressed').map((d) => d.reason)).toEqual(['held-by-person']);
    expect(data(decided, 'AgentReplied').map((d) => d.conversationId)).toEqual(['conv-2']);
    expect(data(decided, 'ConversationResolved')).toEqual([{ conversationId: 'conv-2', automated: true }]);
  });

  it('given one trigger hands off on a reply, then a lower-priority trigger deciding on the same reply does not answer either', () => {
    const high = enabledProgram({ ...negativeToSupport.latest.definition, priority: 10, steps: [{ handoff: { team: 'support' } }] });
    const low = enabledProgram({
      id: 'auto-answer',
      name: 'Auto answer',
      reentry: 'every',
      entry: { reply: {} },
      steps: [{ reply: { body: 'We got your message.' } }],
    });
    const h = new History();
    h.reply(T0, 'Awful, nothing works', { sentiment: -0.6 });
    const { decided } = simulateCustomer([low, high], h.events);
    expect(data(decided, 'ConversationAssigned')).toMatchObject([{ team: 'support', priority: 'normal', reason: 'queued' }]);
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ triggerId: 'auto-answer', reason: 'held-by-person' }]);
  });

  it('given two triggers answer the same reply, then only the higher priority one does (the other: suppressed, priority)', () => {
    const a = enabledProgram({ id: 'a', name: 'A', priority: 5, entry: { reply: {} }, steps: [{ reply: { body: 'A' } }] });
    const b = enabledProgram({ id: 'b', name: 'B', entry: { reply: {} }, steps: [{ reply: { body: 'B' } }] });
    const h = new History();
    h.reply(T0, 'hello');
    const { decided } = simulateCustomer([b, a], h.events);
    expect(data(decided, 'AgentReplied').map((d) => d.body)).toEqual(['A']);
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ triggerId: 'b', reason: 'priority' }]);
  });
});

describe('the reply body is a template, rendered through the injected renderer', () => {
  const personal = enabledProgram({
    id: 'personal',
    name: 'Personal answer',
    reentry: 'every',
    entry: { reply: { contains: ['export'] } },
    steps: [
      { set: { traits: { helped: 'export' } } },
      { reply: { body: 'Hi {{ customer.traits.name }}, here is how to {{ customer.traits.helped }}.' } },
    ],
  });
  /** A stand-in for the messaging lib's renderer: records what it was given, fills `{{ customer.traits.X }}`. */
  const fake = () => {
    const calls: Array<{ body: string; scope: ReplyScope }> = [];
    const render: ReplyRenderer = (body, scope) => {
      calls.push({ body, scope });
      const missing = [...body.matchAll(/\{\{ customer\.traits\.(\w+) \}\}/g)].find((m) => scope.customer.traits[m[1]] === undefined);
      if (missing) return { error: `body: undefined variable: customer.traits.${missing[1]}` };
      return { text: body.replace(/\{\{ customer\.traits\.(\w+) \}\}/g, (_m, k: string) => String(scope.customer.traits[k])) };
    };
    return { calls, render };
  };

  it('given traits, when the customer writes, then the answer in the thread is the rendered body, with the scope a send gets', () => {
    const h = new History();
    h.identify(T0, { name: 'Ada' });
    const cause = h.reply(at(1), 'how do I export?');
    const { calls, render } = fake();
    const { decided } = simulateCustomer([personal], h.events, undefined, { renderReply: render });
    expect(data(decided, 'AgentReplied')).toMatchObject([
      { conversationId: 'conv-1', body: 'Hi Ada, here is how to export.', automated: true },
    ]);
    // the customer as the decision sees it (a `set` earlier in the same run included) and the causing event's properties
    expect(calls).toEqual([
      {
        body: 'Hi {{ customer.traits.name }}, here is how to {{ customer.traits.helped }}.',
        scope: { customer: { id: 'c1', traits: { name: 'Ada', helped: 'export' } }, event: {} },
      },
    ]);
    expect(ofType(decided, 'AgentReplied')[0].metadata.causationId).toBe(cause.id);
    // deterministic: the same history decides the same events, ids included
    expect(simulateCustomer([personal], h.events, undefined, { renderReply: render }).decided).toEqual(decided);
  });

  it('given a body that does not render (a missing trait), then no answer: a MessageSuppressed with reason template-error, as a send at the dispatcher', () => {
    const h = new History();
    h.reply(T0, 'export please');
    const { decided } = simulateCustomer([personal], h.events, undefined, { renderReply: fake().render });
    expect(ofType(decided, 'AgentReplied')).toEqual([]);
    expect(data(decided, 'MessageSuppressed')).toMatchObject([
      {
        reason: 'template-error',
        detail: 'body: undefined variable: customer.traits.name',
        channel: 'inbox',
        triggerId: 'personal',
        step: '1',
        guards: [{ guard: 'template', verdict: 'suppressed', detail: 'body: undefined variable: customer.traits.name' }],
      },
    ]);
  });

  it('given a person holds the conversation, then the body is not even rendered: suppressed, held-by-person', () => {
    const h = new History();
    h.identify(T0, { name: 'Ada' });
    h.reply(at(1), 'hello');
    h.add('ConversationAssigned', { conversationId: 'conv-1', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' }, at(2));
    h.reply(at(3), 'export?');
    const { calls, render } = fake();
    const { decided } = simulateCustomer([personal], h.events, undefined, { renderReply: render });
    expect(data(decided, 'MessageSuppressed').map((d) => d.reason)).toEqual(['held-by-person']);
    expect(calls).toEqual([]);
  });

  it('given an event that moved the run on, then the body sees its properties as `event`', () => {
    const waits = enabledProgram({
      id: 'waits',
      name: 'Waits',
      entry: { reply: {} },
      steps: [{ wait: { until: { event: 'Plan Downgraded' }, timeout: '1d', onEvent: [{ reply: { body: '{{ event.plan }}' } }] } }],
    });
    const h = new History();
    h.reply(T0, 'hi');
    h.track(at(1), 'Plan Downgraded', { plan: 'starter' });
    const { calls, render } = fake();
    simulateCustomer([waits], h.events, undefined, { renderReply: render });
    expect(calls.map((c) => c.scope.event)).toEqual([{ plan: 'starter' }]);
  });

  it('given no renderer, then a body without markup is written as is and one with markup is suppressed (template-error)', () => {
    const plain = enabledProgram({
      id: 'plain',
      name: 'Plain',
      reentry: 'every',
      entry: { reply: {} },
      steps: [{ reply: { body: 'We got it.' } }],
    });
    const h = new History();
    h.reply(T0, 'export?');
    expect(data(simulateCustomer([plain], h.events).decided, 'AgentReplied').map((d) => d.body)).toEqual(['We got it.']);
    expect(data(simulateCustomer([personal], h.events).decided, 'MessageSuppressed')).toMatchObject([
      { reason: 'template-error', detail: 'body: no template renderer was given to render this reply' },
    ]);
  });
});

describe('handoff outside a conversation', () => {
  const downgrade = enabledProgram({
    id: 'downgrade-call',
    name: 'Downgrade: call the customer',
    entry: { event: 'Plan Downgraded' },
    steps: [
      { reply: { body: 'no conversation yet' } },
      { handoff: { team: 'csm', priority: 'urgent' } },
      { wait: { duration: '1d' } },
      { tag: { tags: ['downgrade'] } },
      { resolve: {} },
    ],
  });

  it('given an entry that is no reply, then the handoff starts an in-app conversation named after the trigger, which later steps act in', () => {
    const h = new History();
    h.track(T0, 'Plan Downgraded');
    const { decided } = simulateCustomer([downgrade], h.events, new Date('2025-03-10T00:00:00Z'));
    const [started] = data(decided, 'ConversationStarted');
    expect(started).toEqual({ conversationId: expect.any(String), channel: 'inbox', subject: 'Downgrade: call the customer' });
    const id = started.conversationId;
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ reason: 'no-conversation', step: '0' }]);
    expect(data(decided, 'ConversationAssigned')).toMatchObject([
      { conversationId: id, team: 'csm', priority: 'urgent', reason: 'queued' },
    ]);
    // a day later (the timer fired): tagged in the conversation it started; not resolved, the team holds it
    expect(data(decided, 'ConversationTagged')).toEqual([{ conversationId: id, tags: ['downgrade'] }]);
    expect(ofType(decided, 'ConversationResolved')).toEqual([]);
    expect(ofType(decided, 'ConversationTagged')[0].metadata.occurredAt).toBe('2025-03-04T10:00:00.000Z');
  });
});

describe('the webhook step', () => {
  const crm = enabledProgram({
    id: 'crm-sync',
    name: 'CRM sync',
    reentry: 'every',
    entry: { reply: { sentiment: { lte: -0.5 } } },
    guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] },
    steps: [
      {
        webhook: {
          url: 'https://crm.example.com/contacts/{{ customer.id }}/notes',
          headers: { Authorization: 'Bearer {{ secrets.crm_token }}' },
          body: '{"note": "unhappy reply"}',
        },
      },
      { webhook: { url: '{{ secrets.slack_url }}', method: 'PUT' } },
      { send: { channel: 'email', body: 'Sorry to hear that.' } },
    ],
  });

  it('given a webhook step, then it schedules an http message with its request and templates, in the conversation, outside frequency caps', () => {
    const h = new History();
    h.reply(T0, 'Terrible', { conversationId: 'c-9', sentiment: -0.6 });
    const { decided } = simulateCustomer([crm], h.events);
    const scheduled = data(decided, 'MessageScheduled');
    expect(scheduled.map((d) => d.channel)).toEqual(['http', 'http', 'email']); // the cap of 1 counts only the email
    expect(scheduled[0]).toMatchObject({
      channel: 'http',
      triggerId: 'crm-sync',
      template: { body: '{"note": "unhappy reply"}' },
      request: {
        url: 'https://crm.example.com/contacts/{{ customer.id }}/notes',
        method: 'POST',
        headers: { Authorization: 'Bearer {{ secrets.crm_token }}' },
      },
      conversationId: 'c-9',
      step: '0',
      guards: [],
    });
    expect(scheduled[1]).toMatchObject({ template: { body: '' }, request: { url: '{{ secrets.slack_url }}', method: 'PUT' } });
    expect(scheduled[1].request).not.toHaveProperty('headers');
  });
});

describe('the run state, rebuilt from the stream', () => {
  it('given a run waiting after a reply and a person taking the conversation meanwhile, when the view is folded from the stored stream and the timer fires, then it knows its conversation and that a person holds it', () => {
    const p = enabledProgram({
      id: 'later',
      name: 'Later',
      entry: { reply: {} },
      steps: [{ wait: { duration: '1h' } }, { reply: { body: 'Any news?' } }, { tag: { tags: ['followed-up'] } }],
    });
    const h = new History();
    h.reply(T0, 'first', { conversationId: 'c-1' });
    h.reply(at(10), 'elsewhere', { conversationId: 'c-2' });
    h.add('ConversationAssigned', { conversationId: 'c-1', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' }, at(20));
    const { stream } = simulateCustomer([p], h.events, new Date(at(30)));
    // the stored stream, folded into a fresh view (a reactor rebuilding after a restart)
    const view = emptyCustomerView();
    for (const e of stream) applyToView(view, e);
    expect(view.runs.get('later')?.active?.conversationId).toBe('c-1');
    const [scheduled] = ofType(stream, 'TimerScheduled');
    const fired = timerFired(scheduled as never, Date.parse(at(60)));
    const decided = decideOnView([p], view, fired, new Date(at(60)));
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ reason: 'held-by-person', detail: expect.stringContaining('c-1') }]);
    expect(data(decided, 'ConversationTagged')).toEqual([{ conversationId: 'c-1', tags: ['followed-up'] }]);
  });
});

describe('held, as the trigger runtime folds it', () => {
  it('agrees with the conversation decider on generated sequences of assignments, resolutions and reopenings', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 200; run++) {
      const h = new History();
      h.reply(T0, 'hi');
      for (let i = 1; i < 12; i++) {
        const r = next();
        const when = at(i);
        if (r < 0.25)
          h.add(
            'ConversationAssigned',
            {
              conversationId: 'conv-1',
              ...(next() < 0.5 ? { team: 'support' } : {}),
              ...(next() < 0.5 ? { assignee: 'ann' } : {}),
              priority: 'normal',
              reason: 'manual',
            },
            when,
          );
        else if (r < 0.45) h.add('ConversationResolved', { conversationId: 'conv-1' }, when);
        else if (r < 0.65) h.add('ConversationReopened', { conversationId: 'conv-1', reason: 'manual' }, when);
        else h.reply(when, 'more');
      }
      const view = emptyCustomerView();
      for (const e of h.events) applyToView(view, e);
      const decider = conversationsFromStream(h.events).get('conv-1')!;
      expect({ run, held: view.conversations.get('conv-1')?.held }).toEqual({ run, held: decider.held });
    }
  });
});
