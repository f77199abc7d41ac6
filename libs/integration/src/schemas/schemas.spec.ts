import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { PUBLISHED_EVENT_TYPES, dataSchemaUri, toOutboxMessage, topicFor, type PublishedEventType } from '../outbox/integration-events';
import { SAMPLE_DATA, sampleEvent } from '../outbox/sample-events.fixture';
import { INTEGRATION_EVENT_SCHEMAS } from './index';
import { schemaValidator } from './testing/schema-validator';

function recorded(type: PublishedEventType, data: object, position = 7n): RecordedEvent {
  return { ...sampleEvent(type, data, 'acme', 'cust-1'), streamId: customerStreamId('acme', 'cust-1'), revision: 0n, position };
}

describe('integration event schemas', () => {
  const validate = schemaValidator();

  it('has one schema per published type, whose $id is the dataschema the events carry', () => {
    expect(Object.keys(INTEGRATION_EVENT_SCHEMAS).sort()).toEqual([...PUBLISHED_EVENT_TYPES].sort());
    for (const type of PUBLISHED_EVENT_TYPES) expect((INTEGRATION_EVENT_SCHEMAS[type] as { $id: string }).$id).toBe(dataSchemaUri(type));
  });

  it.each(PUBLISHED_EVENT_TYPES)('every published %s validates against its schema', (type) => {
    const message = toOutboxMessage(recorded(type, SAMPLE_DATA[type]))!;
    expect(validate(message.event)).toEqual([]);
    expect(message.event).toMatchObject({
      specversion: '1.0',
      type: `journey.${type}`,
      subject: 'cust-1',
      source: 'journey-engine/acme',
      workspace: 'acme',
      position: '7',
    });
  });

  it('keeps internal fields out of the published data', () => {
    expect(toOutboxMessage(recorded('MessageScheduled', SAMPLE_DATA.MessageScheduled))!.event.data).not.toHaveProperty('template');
    expect(toOutboxMessage(recorded('MessageScheduled', SAMPLE_DATA.MessageScheduled))!.event.data).not.toHaveProperty('to');
    expect(toOutboxMessage(recorded('MessageDelivered', SAMPLE_DATA.MessageDelivered))!.event.data).not.toHaveProperty('content');
    expect(toOutboxMessage(recorded('CustomerIdentified', SAMPLE_DATA.CustomerIdentified))!.event.data).not.toHaveProperty('context');
  });

  it('rejects events that break the contract', () => {
    const ok = toOutboxMessage(recorded('StageChanged', SAMPLE_DATA.StageChanged))!.event;
    expect(validate({ ...ok, data: { from: null, to: 'nowhere', reason: 'x' } }).join()).toMatch(/\/data\/to/);
    expect(validate({ ...ok, data: { from: null, to: 'active' } }).join()).toMatch(/reason/);
    expect(validate({ ...ok, type: 'journey.MessageSent' }).join()).toMatch(/\/type/);
    expect(validate({ ...ok, time: 'yesterday' }).join()).toMatch(/\/time/);
    expect(validate({ ...ok, position: -1 } as never).join()).toMatch(/\/position/);
    expect(validate({ ...ok, dataschema: 'urn:journey-engine:integration:journey.Nope:v1' })).toEqual([
      'no schema for dataschema urn:journey-engine:integration:journey.Nope:v1',
    ]);
  });

  it('publishes the conversation events on journey.conversations, with what was written and the internal notes', () => {
    const conversationTypes: PublishedEventType[] = [
      'ConversationStarted',
      'CustomerReplied',
      'AgentReplied',
      'InternalNoteAdded',
      'ConversationAssigned',
      'ConversationTagged',
      'ConversationSnoozed',
      'ConversationResolved',
      'ConversationReopened',
      'SatisfactionRated',
      'SlaBreached',
    ];
    for (const type of conversationTypes) expect(topicFor(type)).toBe('journey.conversations');
    expect(topicFor('CsmTaskAssigned')).toBe('journey.csm-tasks');
    const reply = toOutboxMessage(recorded('CustomerReplied', SAMPLE_DATA.CustomerReplied))!;
    expect(reply.event.data).toEqual({
      conversationId: 'cv1',
      messageId: 'cm1',
      channel: 'email',
      body: 'Why was I charged twice?',
      sentiment: -0.3,
    });
    expect(reply.key).toBe('acme:cust-1');
    expect(toOutboxMessage(recorded('InternalNoteAdded', SAMPLE_DATA.InternalNoteAdded))!.event.data).toEqual({
      conversationId: 'cv1',
      noteId: 'n1',
      body: 'Stripe bug again?',
      by: 'ann',
    });
    expect(toOutboxMessage(recorded('SatisfactionRated', SAMPLE_DATA.SatisfactionRated))!.event.data).toEqual({
      conversationId: 'cv1',
      score: 5,
      comment: 'Fast',
    });
  });

  it('rejects conversation events that break the contract', () => {
    const rated = toOutboxMessage(recorded('SatisfactionRated', SAMPLE_DATA.SatisfactionRated))!.event;
    expect(validate({ ...rated, data: { conversationId: 'cv1', score: 6 } }).join()).toMatch(/\/data\/score/);
    expect(validate({ ...rated, data: { score: 3 } }).join()).toMatch(/conversationId/);
    const assigned = toOutboxMessage(recorded('ConversationAssigned', SAMPLE_DATA.ConversationAssigned))!.event;
    expect(validate({ ...assigned, data: { ...assigned.data, reason: 'whim' } }).join()).toMatch(/\/data\/reason/);
    expect(validate({ ...assigned, data: { ...assigned.data, priority: 'asap' } }).join()).toMatch(/\/data\/priority/);
    const reply = toOutboxMessage(recorded('CustomerReplied', SAMPLE_DATA.CustomerReplied))!.event;
    expect(validate({ ...reply, data: { ...reply.data, channel: 'fax' } }).join()).toMatch(/\/data\/channel/);
    expect(validate({ ...reply, data: { ...reply.data, providerId: 'x' } }).join()).toMatch(/additional properties/);
    const breach = toOutboxMessage(recorded('SlaBreached', SAMPLE_DATA.SlaBreached))!.event;
    expect(validate({ ...breach, data: { ...breach.data, target: 'lunch' } }).join()).toMatch(/\/data\/target/);
  });

  it('versions a changed shape: CsmTaskClosed is v2 (outcome, by); v1 stays published for what consumers stored', () => {
    const closed = toOutboxMessage(recorded('CsmTaskClosed', SAMPLE_DATA.CsmTaskClosed))!.event;
    expect(closed.dataschema).toBe('urn:journey-engine:integration:journey.CsmTaskClosed:v2');
    expect(closed.data).toEqual({ taskId: 'k1', resolution: 'done', outcome: 'renewed for a year', by: 'ann' });
    const v1 = {
      ...closed,
      dataschema: 'urn:journey-engine:integration:journey.CsmTaskClosed:v1',
      data: { taskId: 'k1', resolution: 'done' },
    };
    expect(validate(v1)).toEqual([]);
    expect(validate({ ...v1, data: closed.data }).join()).toMatch(/additional properties/);
  });

  it('does not publish internal events', () => {
    const timer = { ...recorded('StageChanged', {}), type: 'TimerScheduled' };
    expect(toOutboxMessage(timer)).toBeUndefined();
  });
});
