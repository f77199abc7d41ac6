import { envelope } from './envelope';
import { deterministicId } from './ids';
import { typed, type JourneyEvent, type RecordedEvent } from './events';

/**
 * Dead letters: an event a subscriber (a projection runner, a reactor, the timers, the dispatcher, the relay) could not
 * handle is quarantined, so the subscriber moves on to the next events. The quarantine is an event in the log, in the
 * workspace's `deadletters-<workspace>` stream: no subscriber's filter takes these streams in (they are neither customer
 * nor trigger streams, and their types are no subscriber's), so they are durable and visible across threads and
 * processes. A retry is requested in the log too (`DeadLetterRetryRequested`): the owning subscriber, wherever it
 * runs, picks it up, runs the event again and records the outcome (`DeadLetterResolved`, or `EventQuarantined` again).
 */
export const DEAD_LETTER_STREAM_PREFIX = 'deadletters-';
export const DEAD_LETTER_EVENT_TYPES = ['EventQuarantined', 'DeadLetterRetryRequested', 'DeadLetterResolved'] as const;

export function deadLetterStreamId(workspaceId: string): string {
  return `${DEAD_LETTER_STREAM_PREFIX}${workspaceId}`;
}

/** One dead letter per subscriber and event, however often it is quarantined again. */
export function deadLetterId(subscriber: string, eventId: string): string {
  return deterministicId('dead-letter', subscriber, eventId);
}

/** What a dead letter says of the event it holds (a `RecordedEvent` has all of it). */
export interface DeadLetterSubject {
  id: string;
  type: string;
  streamId: string;
  position: bigint;
  metadata: { workspaceId: string; customerId: string; correlationId?: string };
}

export type EventQuarantinedData = {
  deadLetterId: string;
  subscriber: string;
  eventId: string;
  /** Global position of the quarantined event (a decimal string: positions are bigints). */
  position: string;
  streamId: string;
  type: string;
  /** The error's class (e.g. `TypeError`, `MongoServerError 121`). */
  reason: string;
  error: string;
  attempts: number;
  /** The retry request this quarantine answers (absent for the first one). */
  retryOf?: string;
};

export type DeadLetterRetryRequestedData = {
  deadLetterId: string;
  subscriber: string;
  eventId: string;
  position: string;
  /** Who asked (`admin`, a key id, ...). */
  by: string;
};

export type DeadLetterResolvedData = {
  deadLetterId: string;
  subscriber: string;
  eventId: string;
  /** The retry request that resolved it. */
  retryOf: string;
};

const MAX_ERROR_CHARS = 2_000;

/** A dead-letter event about `subject`, caused by it or by the retry request `retryOf` (which carries its correlation). */
function deadLetterEvent<T extends string, D>(
  type: T,
  id: string,
  subject: DeadLetterSubject,
  data: D,
  now: Date,
  retryOf?: string,
): JourneyEvent<T, D> {
  const at = now.toISOString();
  const cause =
    retryOf === undefined ? subject : { id: retryOf, metadata: { correlationId: subject.metadata.correlationId ?? subject.id } };
  return envelope({
    id,
    type,
    data,
    workspaceId: subject.metadata.workspaceId,
    customerId: subject.metadata.customerId,
    occurredAt: at,
    recordedAt: at,
    cause,
    source: 'quarantine',
  });
}

/**
 * The quarantine of `subject` by `subscriber`; its id is deterministic (subscriber + event + retry request), so a
 * subscriber that quarantines the same event again after a crash writes nothing new.
 */
export function eventQuarantined(
  subscriber: string,
  subject: DeadLetterSubject,
  failure: { reason: string; error: string; attempts: number; retryOf?: string },
  now: Date,
): JourneyEvent<'EventQuarantined', EventQuarantinedData> {
  const data: EventQuarantinedData = {
    deadLetterId: deadLetterId(subscriber, subject.id),
    subscriber,
    eventId: subject.id,
    position: subject.position.toString(),
    streamId: subject.streamId,
    type: subject.type,
    reason: failure.reason,
    error: failure.error.slice(0, MAX_ERROR_CHARS),
    attempts: failure.attempts,
    ...(failure.retryOf ? { retryOf: failure.retryOf } : {}),
  };
  return deadLetterEvent(
    'EventQuarantined',
    deterministicId('event-quarantined', subscriber, subject.id, failure.retryOf ?? ''),
    subject,
    data,
    now,
    failure.retryOf,
  );
}

export function deadLetterRetryRequested(
  letter: DeadLetter,
  by: string,
  requestId: string,
  now: Date,
): JourneyEvent<'DeadLetterRetryRequested', DeadLetterRetryRequestedData> {
  const subject: DeadLetterSubject = {
    id: letter.eventId,
    type: letter.eventType,
    streamId: letter.streamId,
    position: BigInt(letter.position),
    metadata: { workspaceId: letter.workspaceId, customerId: letter.customerId },
  };
  return deadLetterEvent(
    'DeadLetterRetryRequested',
    requestId,
    subject,
    { deadLetterId: letter.id, subscriber: letter.subscriber, eventId: letter.eventId, position: letter.position, by },
    now,
  );
}

export function deadLetterResolved(
  subscriber: string,
  subject: DeadLetterSubject,
  retryOf: string,
  now: Date,
): JourneyEvent<'DeadLetterResolved', DeadLetterResolvedData> {
  const data: DeadLetterResolvedData = { deadLetterId: deadLetterId(subscriber, subject.id), subscriber, eventId: subject.id, retryOf };
  return deadLetterEvent('DeadLetterResolved', deterministicId('dead-letter-resolved', retryOf), subject, data, now, retryOf);
}

export type DeadLetterStatus = 'quarantined' | 'retrying' | 'resolved';

/** A dead letter as the admin API shows it: folded from its stream. */
export interface DeadLetter {
  id: string;
  status: DeadLetterStatus;
  subscriber: string;
  workspaceId: string;
  customerId: string;
  eventId: string;
  eventType: string;
  streamId: string;
  position: string;
  reason: string;
  error: string;
  attempts: number;
  /** When it was (last) quarantined. */
  quarantinedAt: string;
  /** Retries asked for so far. */
  retries: number;
  /** The retry in progress (status `retrying`). */
  retryRequestId?: string;
  resolvedAt?: string;
}

/** The dead letters of a `deadletters-<workspace>` stream, in the order they were first quarantined. */
export function foldDeadLetters(events: readonly RecordedEvent[]): DeadLetter[] {
  const letters = new Map<string, DeadLetter>();
  for (const e of events) {
    const data = e.data as { deadLetterId?: string };
    const id = data.deadLetterId;
    if (!id) continue;
    const letter = letters.get(id);
    const t = typed(e);
    if (t.type === 'EventQuarantined') {
      const q = t.data;
      letters.set(id, {
        id,
        status: 'quarantined',
        subscriber: q.subscriber,
        workspaceId: e.metadata.workspaceId,
        customerId: e.metadata.customerId,
        eventId: q.eventId,
        eventType: q.type,
        streamId: q.streamId,
        position: q.position,
        reason: q.reason,
        error: q.error,
        attempts: q.attempts,
        quarantinedAt: e.metadata.recordedAt,
        retries: letter?.retries ?? 0,
      });
    } else if (letter && e.type === 'DeadLetterRetryRequested') {
      letter.status = 'retrying';
      letter.retries += 1;
      letter.retryRequestId = e.id;
      delete letter.resolvedAt;
    } else if (letter && e.type === 'DeadLetterResolved') {
      letter.status = 'resolved';
      letter.resolvedAt = e.metadata.recordedAt;
      delete letter.retryRequestId;
    }
  }
  return [...letters.values()];
}
