import type { RecordedEvent } from '@journey/domain';
import { messageKey, toOutboxMessage } from './integration-events';
import { sampleEvent } from './sample-events.fixture';

const recorded = (workspaceId: string, customerId: string): RecordedEvent => ({
  ...sampleEvent('InteractionRecorded', { event: 'Login', properties: {} }, workspaceId, customerId),
  streamId: 'any',
  revision: 0n,
  position: 1n,
});

describe('Kafka message keys', () => {
  it('keep a workspace whose id holds ":" or "-" apart from a neighbour whose customer id does', () => {
    expect(messageKey('a:b', 'c')).not.toBe(messageKey('a', 'b:c'));
    expect(toOutboxMessage(recorded('acme-eu', 'bob'))!.key).not.toBe(toOutboxMessage(recorded('acme', 'eu-bob'))!.key);
    expect(toOutboxMessage(recorded('acme-eu', 'bob'))!.key).toBe('acme%2Deu:bob');
    // the first ":" ends the workspace whatever the customer id holds
    expect(toOutboxMessage(recorded('acme', 'x:y'))!.key).toBe('acme:x:y');
  });
});

describe('test sends', () => {
  it('given a test send (a test- message id), then none of its message events is published', () => {
    const at = (type: string, data: Record<string, unknown>): RecordedEvent => ({
      ...sampleEvent(type, data, 'acme', 'bob'),
      streamId: 'any',
      revision: 0n,
      position: 1n,
    });
    const scheduled = { channel: 'email', template: { body: 'x' }, test: true };
    expect(toOutboxMessage(at('MessageScheduled', { messageId: 'test-1', ...scheduled }))).toBeUndefined();
    expect(toOutboxMessage(at('MessageDelivered', { messageId: 'test-1', channel: 'email', attempt: 1 }))).toBeUndefined();
    expect(toOutboxMessage(at('MessageDelivered', { messageId: 'm-1', channel: 'email', attempt: 1 }))).toBeDefined();
  });
});
