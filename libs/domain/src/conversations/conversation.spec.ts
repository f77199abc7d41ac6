import type { JourneyEvent } from '../events';
import {
  ConversationCommandError,
  conversationsFromStream,
  decideConversation,
  evolveConversation,
  initialConversationState,
  routeCustomerMessage,
  type ConversationCommand,
  type ConversationState,
} from './conversation';

const ctx = (minute = 0) => ({ workspaceId: 'ws', customerId: 'bob', now: new Date(Date.UTC(2026, 0, 5, 10, minute)), source: 'test' });

/** Given the commands, in order (one minute apart), the events they decided and the state after. */
function given(...commands: ConversationCommand[]): { state: ConversationState; events: JourneyEvent[] } {
  let state = initialConversationState('c1');
  const events: JourneyEvent[] = [];
  commands.forEach((c, i) => {
    for (const e of decideConversation(c, state, ctx(i))) {
      events.push(e);
      state = evolveConversation(state, e);
    }
  });
  return { state, events };
}
const when = (state: ConversationState, command: ConversationCommand, minute = 30) => decideConversation(command, state, ctx(minute));
const types = (events: JourneyEvent[]) => events.map((e) => e.type);
const hello: ConversationCommand = { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'Hello, export fails', providerId: 'p1' };
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof ConversationCommandError ? e.code : 'other';
  }
  return 'none';
};

describe('conversation decider', () => {
  it('given nothing, when the customer writes, then the conversation starts with their message, waiting on an agent', () => {
    const { state, events } = given(hello);
    expect(types(events)).toEqual(['ConversationStarted', 'CustomerReplied']);
    expect(state).toMatchObject({ exists: true, status: 'open', waitingOn: 'agent', channel: 'inbox', held: false });
    expect(state.thread.map((t) => [t.from, t.body])).toEqual([['customer', 'Hello, export fails']]);
  });

  it('given a message, when the same provider message arrives again, then nothing is recorded (and its event id is stable)', () => {
    const { state } = given(hello);
    expect(when(state, hello)).toEqual([]);
    const first = given(hello).events[1];
    expect(first.id).toBe(given(hello).events[1].id);
  });

  it('given an open conversation, when a member replies, then it is assigned to them and the first response is recorded', () => {
    const { state, events } = given(hello, { type: 'Reply', body: 'Looking into it', by: 'ann' });
    expect(types(events)).toEqual(['ConversationStarted', 'CustomerReplied', 'ConversationAssigned', 'AgentReplied']);
    expect(state).toMatchObject({ assignee: 'ann', held: true, waitingOn: 'customer', personInvolved: true });
    expect(state.firstResponseAt).toBe(ctx(1).now.toISOString());
  });

  it('given a conversation a person holds, when automation answers, then it is refused', () => {
    const { state } = given(hello, { type: 'Assign', team: 'support', reason: 'queued' });
    expect(refusal(() => when(state, { type: 'Reply', body: 'Try again', automated: { triggerId: 't', runId: 'r' } }))).toBe('held');
  });

  it('given an unheld conversation, when automation answers and resolves, then it counts as resolved without a person', () => {
    const { state } = given(
      hello,
      { type: 'Reply', body: 'Here is the guide', automated: { triggerId: 't', runId: 'r' } },
      { type: 'Resolve', automated: true },
    );
    expect(state).toMatchObject({ status: 'resolved', personInvolved: false });
  });

  it('given a resolved conversation, when an agent replies, then 409; when the customer writes, then it reopens', () => {
    const { state } = given(hello, { type: 'Reply', body: 'Fixed', by: 'ann' }, { type: 'Resolve', by: 'ann' });
    expect(refusal(() => when(state, { type: 'Reply', body: 'More', by: 'ann' }))).toBe('conflict');
    const events = when(state, { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'It broke again' });
    expect(types(events)).toEqual(['ConversationReopened', 'CustomerReplied']);
    const after = events.reduce(evolveConversation, state);
    expect(after).toMatchObject({ status: 'open', reopened: 1, assignee: 'ann', held: true });
  });

  it('given an open conversation, when snoozed into the past, then 400; when snoozed ahead, then snoozed until then', () => {
    const { state } = given(hello);
    expect(refusal(() => when(state, { type: 'Snooze', until: '2026-01-01T00:00:00Z', by: 'ann' }))).toBe('invalid');
    const after = when(state, { type: 'Snooze', until: '2026-01-06T09:00:00Z', by: 'ann' }).reduce(evolveConversation, state);
    expect(after).toMatchObject({ status: 'snoozed', snoozedUntil: '2026-01-06T09:00:00.000Z' });
  });

  it('given a note, then it is in the thread as a note, and a rating needs the conversation resolved and a score of 1 to 5', () => {
    const { state } = given(hello, { type: 'AddNote', body: 'Ask Lee about exports', by: 'ann' });
    expect(state.thread.at(-1)).toMatchObject({ from: 'note', by: 'ann' });
    expect(refusal(() => when(state, { type: 'Rate', score: 5 }))).toBe('conflict');
    const resolved = when(state, { type: 'Resolve', by: 'ann' }).reduce(evolveConversation, state);
    expect(refusal(() => when(resolved, { type: 'Rate', score: 6 }))).toBe('invalid');
    expect(when(resolved, { type: 'Rate', score: 4, comment: 'quick' }).reduce(evolveConversation, resolved).rating).toEqual({
      score: 4,
      comment: 'quick',
    });
  });

  it('given nothing, when an agent acts on it, then not found; an empty body is bad input', () => {
    expect(refusal(() => when(initialConversationState('c1'), { type: 'Reply', body: 'hi', by: 'ann' }))).toBe('not_found');
    expect(refusal(() => when(initialConversationState('c1'), { type: 'ReceiveCustomerMessage', channel: 'inbox', body: ' ' }))).toBe(
      'invalid',
    );
  });

  it('routes a message to the conversation it names, to the one holding what it answers, else to the open one of its channel', () => {
    const email = given({
      type: 'ReceiveCustomerMessage',
      channel: 'email',
      body: 'Re: invoice',
      providerId: '<m1@mail>',
      inReplyTo: 'msg-7',
    });
    const conversations = conversationsFromStream(email.events);
    expect(routeCustomerMessage(conversations, { channel: 'email', inReplyTo: ['<m1@mail>'] })).toBe('c1');
    expect(routeCustomerMessage(conversations, { channel: 'email', inReplyTo: ['msg-7'] })).toBe('c1');
    expect(routeCustomerMessage(conversations, { channel: 'email' })).toBe('c1');
    expect(routeCustomerMessage(conversations, { channel: 'inbox' })).toBeUndefined();
    expect(routeCustomerMessage(conversations, { channel: 'email', conversationId: 'other' })).toBeUndefined();
  });

  it('given nothing, when an agent starts a conversation, then it starts with their message, held by them; twice is 409', () => {
    const start: ConversationCommand = {
      type: 'Start',
      body: 'Your renewal is next month',
      by: 'ann',
      channel: 'email',
      subject: 'Renewal',
    };
    const { state, events } = given(start);
    expect(types(events)).toEqual(['ConversationStarted', 'ConversationAssigned', 'AgentReplied']);
    expect(events[0].data).toMatchObject({ channel: 'email', subject: 'Renewal', by: 'ann' });
    expect(state).toMatchObject({ exists: true, startedBy: 'ann', assignee: 'ann', held: true, waitingOn: 'customer', channel: 'email' });
    expect(state.thread.map((t) => [t.from, t.by, t.body])).toEqual([['agent', 'ann', 'Your renewal is next month']]);
    // the first response answers the customer: it is not the agent's opening message
    expect(state.firstResponseAt).toBeUndefined();
    expect(refusal(() => when(state, start))).toBe('conflict');
    const answered = given(
      start,
      { type: 'ReceiveCustomerMessage', channel: 'email', body: 'Thanks' },
      { type: 'Reply', body: 'Sure', by: 'ann' },
    );
    expect(answered.state.firstResponseAt).toBe(ctx(2).now.toISOString());
    expect(refusal(() => when(initialConversationState('c1'), { ...start, body: '' }))).toBe('invalid');
  });
});
