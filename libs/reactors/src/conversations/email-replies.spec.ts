import { customerStreamId, envelope, type RecordedEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import type { ReactorContext } from '../runtime/reactor';
import { EmailRepliesReactor, replySubject } from './email-replies';

const WS = 'acme';
const CUSTOMER = 'ann';
const STREAM = customerStreamId(WS, CUSTOMER);
const AT = '2026-12-01T10:00:00.000Z';

function recorded(position: number, type: string, data: Record<string, unknown>): RecordedEvent {
  const e = envelope({
    id: `e${position}`,
    type,
    data,
    workspaceId: WS,
    customerId: CUSTOMER,
    occurredAt: AT,
    recordedAt: AT,
    source: 'test',
  });
  return { ...e, streamId: STREAM, revision: BigInt(position - 1), position: BigInt(position) } as RecordedEvent;
}

const stream = [
  recorded(1, 'CustomerIdentified', { userId: CUSTOMER, traits: { email: 'ann@example.com' } }),
  recorded(2, 'ConversationStarted', { conversationId: 'c1', channel: 'email', subject: 'Your import' }),
  recorded(3, 'CustomerReplied', { conversationId: 'c1', messageId: 'm1', channel: 'email', body: 'It works', providerId: '<a@x>' }),
  recorded(4, 'AgentReplied', { conversationId: 'c1', messageId: 'm2', channel: 'email', body: 'Great, {{ name }}!', by: 'sam' }),
  recorded(5, 'AgentReplied', { conversationId: 'c1', messageId: 'm3', channel: 'inbox', body: 'In the app', by: 'sam' }),
];

const context = (owns = true): ReactorContext => ({
  store: { readStream: async () => stream } as unknown as EventStore,
  now: () => new Date(AT),
  owns: () => owns,
});

describe('EmailRepliesReactor', () => {
  const reactor = new EmailRepliesReactor();

  it('schedules an agent reply of an email conversation as a literal email to the customer, threaded on the conversation', async () => {
    const appends = await reactor.react(stream.slice(3), context());
    expect(appends).toHaveLength(1);
    const [append] = appends;
    expect(append.streamId).toBe(STREAM);
    expect(append.events).toHaveLength(1);
    const [scheduled] = append.events;
    expect(scheduled).toMatchObject({
      type: 'MessageScheduled',
      data: {
        channel: 'email',
        conversationId: 'c1',
        template: { subject: 'Re: Your import', body: 'Great, {{ name }}!' },
        literal: true,
        to: 'ann@example.com',
        causingEventId: 'e4',
      },
      metadata: { causationId: 'e4', source: 'reactor' },
    });
    // a replay decides the same ids: the store keeps one
    const [again] = await reactor.react(stream.slice(3), context());
    expect(again.events[0].id).toBe(scheduled.id);
    expect((again.events[0].data as { messageId: string }).messageId).toBe((scheduled.data as { messageId: string }).messageId);
  });

  it("leaves replies on other channels, and other partitions' customers, alone", async () => {
    expect(await reactor.react([stream[4]], context())).toEqual([]);
    expect(await reactor.react(stream.slice(3), context(false))).toEqual([]);
  });

  it('writes one Re:', () => {
    expect(replySubject('Re: Your import')).toBe('Re: Your import');
    expect(replySubject('RE: x')).toBe('RE: x');
    expect(replySubject(undefined)).toBe('Re: your message');
  });
});
