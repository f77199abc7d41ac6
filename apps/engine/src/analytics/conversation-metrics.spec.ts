import { evolveConversation, initialConversationState, type EventDataByType, type EventType, type RecordedEvent } from '@journey/domain';
import { Metrics } from '../operations/metrics';
import { observeConversations } from './conversation-metrics';

let revision = 0n;
function recorded<T extends EventType>(type: T, data: EventDataByType[T], occurredAt: string): RecordedEvent {
  revision += 1n;
  return {
    id: `e${revision}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'w', customerId: 'c', occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
    streamId: 'customer-w-c',
    revision,
    position: revision,
  };
}

/** The conversation as it was before `e`, folded from `stream` (what the subscriber reads from the store). */
const before = (stream: RecordedEvent[]) => (e: RecordedEvent) =>
  stream
    .filter((x) => x.revision < e.revision)
    .reduce(evolveConversation, initialConversationState((e.data as { conversationId: string }).conversationId));

const sample = async (metrics: Metrics, name: string) =>
  (await metrics.registry.getMetricsAsJSON())
    .find((m) => m.name === name)!
    .values.map((v) => [v.labels, v.value] as const)
    .filter(([labels]) => !('le' in labels));

describe('conversation metrics', () => {
  it('observes the first reply once, every resolution, automated or not, breaches and ratings; labels carry no person', async () => {
    const id = 'cv';
    const stream = [
      recorded('ConversationStarted', { conversationId: id, channel: 'email' }, '2025-01-01T10:00:00Z'),
      recorded('CustomerReplied', { conversationId: id, messageId: 'q', channel: 'email', body: 'help' }, '2025-01-01T10:00:00Z'),
      recorded(
        'ConversationAssigned',
        { conversationId: id, team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
        '2025-01-01T10:00:00Z',
      ),
      recorded(
        'AgentReplied',
        { conversationId: id, messageId: 'a', channel: 'email', body: 'x', automated: true, triggerId: 't', runId: 'r' },
        '2025-01-01T10:01:00Z',
      ),
      recorded('AgentReplied', { conversationId: id, messageId: 'b', channel: 'email', body: 'y', by: 'ann' }, '2025-01-01T10:30:00Z'),
      recorded('ConversationResolved', { conversationId: id, by: 'ann' }, '2025-01-01T11:00:00Z'),
      recorded('SatisfactionRated', { conversationId: id, score: 3 }, '2025-01-01T11:10:00Z'),
      recorded('ConversationReopened', { conversationId: id, reason: 'customer-replied' }, '2025-01-01T12:00:00Z'),
      recorded(
        'SlaBreached',
        { subject: 'conversation', id, target: 'resolution', dueAt: '2025-01-01T12:30:00Z', priority: 'high' },
        '2025-01-01T12:30:00Z',
      ),
      recorded('ConversationResolved', { conversationId: id, by: 'ann' }, '2025-01-01T13:00:00Z'),
      recorded('ConversationStarted', { conversationId: 'auto', channel: 'inbox' }, '2025-01-01T10:00:00Z'),
      recorded('ConversationResolved', { conversationId: 'auto', automated: true }, '2025-01-01T10:00:30Z'),
    ];
    const metrics = new Metrics();
    observeConversations(stream, before(stream), metrics);
    const labels = { team: 'support', priority: 'high', channel: 'email' };
    expect(await sample(metrics, 'conversation_first_response_seconds')).toEqual(
      expect.arrayContaining([
        [labels, 60],
        [{ ...labels }, 1],
      ]),
    );
    const resolution = await sample(metrics, 'conversation_resolution_seconds');
    expect(resolution).toEqual(expect.arrayContaining([[labels, 3600 + 3 * 3600]])); // sum of both resolutions
    expect(resolution).toEqual(expect.arrayContaining([[{ team: '', priority: 'normal', channel: 'inbox' }, 30]]));
    expect(await sample(metrics, 'conversations_started_total')).toEqual([
      [{ channel: 'email' }, 1],
      [{ channel: 'inbox' }, 1],
    ]);
    expect(await sample(metrics, 'conversations_resolved_total')).toEqual([
      [{ automated: 'false' }, 2],
      [{ automated: 'true' }, 1],
    ]);
    expect(await sample(metrics, 'sla_breaches_total')).toEqual([[{ target: 'resolution' }, 1]]);
    expect(await sample(metrics, 'csat_ratings_total')).toEqual([[{ score: '3' }, 1]]);
    for (const name of ['conversation_first_response_seconds', 'conversation_resolution_seconds'])
      for (const [l] of await sample(metrics, name)) expect(Object.keys(l).sort()).toEqual(['channel', 'priority', 'team']);
  });
});
