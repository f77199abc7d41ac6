import { randomUUID } from 'node:crypto';
import { validateSync, type ValidationError } from 'class-validator';
import { envelope, ingestedEventId, type JourneyEvent, type TypedEvent } from '@journey/domain';
import { compileCheck, type CompiledCheck } from './compiled-validator';
import { describeValue, parseDateTime } from './input-rules';
import {
  SEGMENT_CALL_CLASSES,
  SEGMENT_CALL_RULES,
  SEGMENT_CALL_TYPES,
  type AliasCall,
  type GroupCall,
  type IdentifyCall,
  type PageCall,
  type SegmentCallType,
  type TrackCall,
} from './segment-calls';

/**
 * Segment calls -> journey events: validation and mapping, with no I/O and no clock (the caller passes the receive
 * time), so the HTTP controller and a Kafka ingestion consumer share it.
 */

export interface SegmentIngestContext {
  workspaceId: string;
  /** When the engine received the call (ISO 8601): the event time when the call has no `timestamp`, and `recordedAt`. */
  receivedAt: string;
  /** Recorded in `metadata.source`: `http`, `kafka`, ... */
  source: string;
  /** Id for calls without `messageId` (default: a random UUID). */
  newMessageId?: () => string;
}

export interface FieldError {
  /** The offending field, e.g. `properties` or `batch` ('' for the call itself). */
  path: string;
  /** Names the field and the problem, e.g. "properties must be an object". */
  message: string;
}

export type SegmentCallResult = { ok: true; events: JourneyEvent[] } | { ok: false; errors: FieldError[] };

export type SegmentBatchResult =
  | { ok: true; events: JourneyEvent[]; accepted: number; rejected: Array<{ index: number; errors: FieldError[] }> }
  | { ok: false; errors: FieldError[] };

type Call = IdentifyCall & TrackCall & PageCall & GroupCall & AliasCall;

/**
 * Validates one Segment call and maps it to the journey event it records. `options.type` is the call type given by the
 * endpoint (`/v1/track` ...): it wins over the body's `type`; without it (batch items, Kafka) the body's `type` decides.
 */
export function parseSegmentCall(raw: unknown, context: SegmentIngestContext, options: { type?: SegmentCallType } = {}): SegmentCallResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('', 'a Segment call must be a JSON object');
  const type = options.type ?? (raw as { type?: unknown }).type;
  if (!(SEGMENT_CALL_TYPES as readonly unknown[]).includes(type)) {
    return fail('type', `type must be one of ${SEGMENT_CALL_TYPES.join(', ')}; got ${type === undefined ? 'none' : describeValue(type)}`);
  }
  if (Object.hasOwn(raw, '__proto__')) return fail('__proto__', 'the field name __proto__ is not allowed');
  // A shallow copy onto the DTO is all the validators need (class-transformer's plainToInstance also deep-copies
  // properties and context: measured, it cost more than the validation). The compiled check answers for valid calls;
  // validateSync writes the messages for the others.
  const cls = SEGMENT_CALL_CLASSES[type as SegmentCallType];
  const call = Object.assign(new cls(), raw, { type }) as Call;
  if (!CHECKS[type as SegmentCallType](call)) {
    const errors = validateSync(call, { stopAtFirstError: true, forbidUnknownValues: true });
    if (errors.length > 0) return { ok: false, errors: errors.map(toFieldError) };
  }
  return { ok: true, events: [toEvent(call, context)] };
}

/** Validates a `/v1/batch` body. Like Segment, valid calls are accepted and invalid ones are reported by index. */
export function parseSegmentBatch(raw: unknown, context: SegmentIngestContext): SegmentBatchResult {
  const batch = typeof raw === 'object' && raw !== null ? (raw as { batch?: unknown }).batch : undefined;
  if (!Array.isArray(batch) || batch.length === 0) return fail('batch', 'batch must be a non-empty array of Segment calls');
  const events: JourneyEvent[] = [];
  const rejected: Array<{ index: number; errors: FieldError[] }> = [];
  batch.forEach((item, index) => {
    const result = parseSegmentCall(item, context);
    if (result.ok) events.push(...result.events);
    else rejected.push({ index, errors: result.errors });
  });
  return { ok: true, events, accepted: batch.length - rejected.length, rejected };
}

const CHECKS = Object.fromEntries(SEGMENT_CALL_TYPES.map((type) => [type, compileCheck(SEGMENT_CALL_RULES[type])])) as Record<
  SegmentCallType,
  CompiledCheck
>;

function fail(path: string, message: string): { ok: false; errors: FieldError[] } {
  return { ok: false, errors: [{ path, message }] };
}

function toFieldError(error: ValidationError): FieldError {
  return { path: error.property, message: Object.values(error.constraints ?? {}).join('; ') || `${error.property} is invalid` };
}

function toEvent(call: Call, context: SegmentIngestContext): JourneyEvent {
  const messageId = call.messageId ?? (context.newMessageId ?? randomUUID)();
  const { type, data } = journeyData(call);
  return envelope<string, Record<string, unknown>>({
    id: ingestedEventId(context.workspaceId, messageId),
    type,
    data,
    workspaceId: context.workspaceId,
    customerId: call.type === 'alias' ? call.userId : (call.userId ?? call.anonymousId),
    // The instant the validated timestamp names: Date's own parser would also take forms the validation refuses.
    occurredAt: call.timestamp ? new Date(parseDateTime(call.timestamp)!).toISOString() : context.receivedAt,
    recordedAt: context.receivedAt,
    correlationId: messageId,
    source: context.source,
  });
}

function journeyData(call: Call): Pick<TypedEvent, 'type' | 'data'> {
  switch (call.type) {
    case 'identify':
      return {
        type: 'CustomerIdentified',
        data: { userId: call.userId, anonymousId: call.anonymousId, traits: call.traits ?? {}, context: call.context },
      };
    case 'track':
      return { type: 'InteractionRecorded', data: { event: call.event, properties: call.properties ?? {}, context: call.context } };
    case 'page':
    case 'screen':
      return { type: 'PageViewed', data: { kind: call.type, name: call.name, category: call.category, properties: call.properties ?? {} } };
    case 'group':
      return { type: 'AccountLinked', data: { groupId: call.groupId, traits: call.traits ?? {} } };
    case 'alias':
      return { type: 'IdentitiesMerged', data: { previousId: call.previousId, userId: call.userId } };
  }
}
