import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { PUBLISHED_EVENT_TYPES, dataSchemaUri, toOutboxMessage, type PublishedEventType } from '../outbox/integration-events';
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

  it('does not publish internal events', () => {
    const timer = { ...recorded('StageChanged', {}), type: 'TimerScheduled' };
    expect(toOutboxMessage(timer)).toBeUndefined();
  });
});
