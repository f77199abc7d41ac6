import { deterministicId, envelope, type JourneyEvent } from '@journey/domain';
import { customerContext } from './context.query';

let n = 0;
const event = (type: string, data: Record<string, unknown>, occurredAt: string): JourneyEvent =>
  envelope({
    id: deterministicId('context-spec', ++n),
    type,
    data,
    workspaceId: 'ws',
    customerId: 'c1',
    occurredAt,
    recordedAt: occurredAt,
    source: 'test',
  });

describe('customer context', () => {
  it('orders interactions by event time, newest first, a late event in its place; messages by delivery, newest first', () => {
    const c = customerContext('ws', 'c1', [
      event('InteractionRecorded', { event: 'B', properties: {} }, '2026-01-02T00:00:00.000Z'),
      event('InteractionRecorded', { event: 'late A', properties: {} }, '2026-01-01T00:00:00.000Z'),
      event('PageViewed', { kind: 'screen', name: 'Home', properties: {} }, '2026-01-03T00:00:00.000Z'),
      event(
        'MessageScheduled',
        { messageId: 'm1', channel: 'inbox', template: { subject: 'Liquid {{ x }}', body: 'b' } },
        '2026-01-01T00:00:00.000Z',
      ),
      event(
        'MessageDelivered',
        { messageId: 'm1', channel: 'inbox', attempt: 1, content: { subject: 'Rendered', body: 'b' } },
        '2026-01-01T00:00:01.000Z',
      ),
      event(
        'MessageScheduled',
        { messageId: 'm2', channel: 'email', template: { subject: 'Second', body: 'b' } },
        '2026-01-02T00:00:00.000Z',
      ),
      event('MessageDelivered', { messageId: 'm2', channel: 'email', attempt: 1 }, '2026-01-02T00:00:01.000Z'),
    ]);
    expect(c.interactions.map((i) => i.name)).toEqual(['Home', 'B', 'late A']);
    expect(c.interactions[0]).toMatchObject({ type: 'PageViewed', kind: 'screen' });
    expect(c.recentMessages).toEqual([
      { messageId: 'm2', channel: 'email', subject: 'Second', deliveredAt: '2026-01-02T00:00:01.000Z' },
      { messageId: 'm1', channel: 'inbox', subject: 'Rendered', deliveredAt: '2026-01-01T00:00:01.000Z' },
    ]);
  });

  it('shows nothing from before the customer was forgotten', () => {
    const c = customerContext('ws', 'c1', [
      event('CustomerIdentified', { userId: 'c1', traits: { email: 'a@example.com' } }, '2026-01-01T00:00:00.000Z'),
      event('InteractionRecorded', { event: 'Secret', properties: { card: '4242' } }, '2026-01-01T00:00:01.000Z'),
      event('MessageDelivered', { messageId: 'm1', channel: 'inbox', attempt: 1, content: { body: 'b' } }, '2026-01-01T00:00:02.000Z'),
      event('ConversationStarted', { conversationId: 'k1', channel: 'inbox' }, '2026-01-01T00:00:03.000Z'),
      event('CustomerForgotten', {}, '2026-01-02T00:00:00.000Z'),
      event('InteractionRecorded', { event: 'After', properties: {} }, '2026-01-03T00:00:00.000Z'),
    ]);
    expect(c.traits).toEqual({});
    expect(c.interactions.map((i) => i.name)).toEqual(['After']);
    expect(c.recentMessages).toEqual([]);
    expect([...c.openConversations, ...c.earlierConversations]).toEqual([]);
  });
});
