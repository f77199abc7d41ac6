import type { EventDataByType, JourneyEvent, TypedEvent } from './events';
import { deterministicId } from './ids';
import { currentSchemaVersion } from './upcasters';

/**
 * Delivery of one message, as a decider: `evolveDelivery` folds the message's events (MessageScheduled, MessageSent,
 * MessageDelivered / MessageFailed / MessageSuppressed) into its state, and `decideDelivery` answers the dispatcher's
 * commands with the events to append. Pure: the dispatcher does the I/O (rendering, the channel call, the clock) and
 * passes the results in.
 *
 * The protocol: `StartAttempt` appends `MessageSent { attempt }` BEFORE the channel is called, so a crash while sending
 * leaves a MessageSent without an outcome and the next dispatcher sends again with the same idempotency key (at least
 * once to the channel, dedupable by the receiver). `CompleteAttempt` records the channel's answer: delivered, failed
 * (permanent error, or retryable error with no attempts left), or nothing (retry later). A message with an outcome is
 * never attempted again.
 */

export type DeliveryOutcome = 'delivered' | 'failed' | 'suppressed';

export interface DeliveryState {
  scheduled?: {
    eventId: string;
    workspaceId: string;
    customerId: string;
    correlationId?: string;
    data: EventDataByType['MessageScheduled'];
  };
  /** The highest attempt recorded by MessageSent (0: never sent). */
  attempts: number;
  outcome?: DeliveryOutcome;
}

export const initialDeliveryState = (): DeliveryState => ({ attempts: 0 });

export type DeliveryEvent = TypedEvent<'MessageSent' | 'MessageDelivered' | 'MessageFailed' | 'MessageSuppressed'>;

/** Rendered content, kept on MessageDelivered for channels whose delivery is the event itself (the in-app inbox). */
export type DeliveredContent = NonNullable<EventDataByType['MessageDelivered']['content']>;

export type AttemptResult = { ok: true; detail?: string; content?: DeliveredContent } | { ok: false; retryable: boolean; error: string };

export type DeliveryCommand =
  | {
      type: 'StartAttempt';
      now: Date;
      maxAttempts: number;
      /** Why the message must not be sent, found by the dispatcher before sending (e.g. `unknown-channel`, `template-error`). */
      suppress?: { reason: string; detail?: string };
    }
  | { type: 'CompleteAttempt'; now: Date; attempt: number; maxAttempts: number; result: AttemptResult };

/** Folds one event of this message into its state; events of other messages must not be passed. */
export function evolveDelivery(state: DeliveryState, event: JourneyEvent): DeliveryState {
  switch (event.type) {
    case 'MessageScheduled': {
      const data = event.data as EventDataByType['MessageScheduled'];
      const { workspaceId, customerId, correlationId } = event.metadata;
      return { ...state, scheduled: { eventId: event.id, workspaceId, customerId, correlationId, data } };
    }
    case 'MessageSent':
      return { ...state, attempts: Math.max(state.attempts, (event.data as EventDataByType['MessageSent']).attempt) };
    case 'MessageDelivered':
      return { ...state, outcome: state.outcome ?? 'delivered' };
    case 'MessageFailed':
      return { ...state, outcome: state.outcome ?? 'failed' };
    case 'MessageSuppressed':
      return { ...state, outcome: state.outcome ?? 'suppressed' };
    default:
      return state;
  }
}

export function decideDelivery(command: DeliveryCommand, state: DeliveryState): DeliveryEvent[] {
  const scheduled = state.scheduled;
  if (!scheduled) throw new Error('decideDelivery: the message was never scheduled');
  if (state.outcome) return [];
  const { messageId, channel } = scheduled.data;
  const event = eventFactory(scheduled, command.now);
  if (command.type === 'StartAttempt') {
    if (command.suppress) return [event('MessageSuppressed', { messageId, channel, ...command.suppress })];
    if (state.attempts >= command.maxAttempts) {
      const error = `no outcome was recorded for attempt ${state.attempts} (the dispatcher stopped while sending) and no attempts are left`;
      return [event('MessageFailed', { messageId, channel, attempts: state.attempts, error })];
    }
    return [event('MessageSent', { messageId, channel, attempt: state.attempts + 1 })];
  }
  const { attempt, result } = command;
  if (result.ok) {
    const data: EventDataByType['MessageDelivered'] = { messageId, channel, attempt };
    if (result.detail !== undefined) data.detail = result.detail;
    if (result.content !== undefined) data.content = result.content;
    return [event('MessageDelivered', data)];
  }
  if (result.retryable && attempt < command.maxAttempts) return [];
  return [event('MessageFailed', { messageId, channel, attempts: attempt, error: result.error })];
}

/** When the message may be sent (its `notBefore`), or undefined for at once. */
export function deliveryDueAt(state: DeliveryState): Date | undefined {
  const notBefore = state.scheduled?.data.notBefore;
  return notBefore ? new Date(notBefore) : undefined;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff: the wait after failed attempt `attempt` (1-based) is base * 2^(attempt-1), capped. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

const OUTCOME_KEYS = { MessageSent: 'message-sent', MessageDelivered: 'message-delivered', MessageFailed: 'message-failed', MessageSuppressed: 'message-suppressed' } as const;

function eventFactory(scheduled: NonNullable<DeliveryState['scheduled']>, now: Date) {
  return <T extends DeliveryEvent['type']>(type: T, data: EventDataByType[T]): DeliveryEvent => {
    // One id per attempt for MessageSent, one per message for an outcome: a replayed decision is a duplicate append.
    const id = type === 'MessageSent' ? deterministicId(OUTCOME_KEYS[type], data.messageId, (data as EventDataByType['MessageSent']).attempt) : deterministicId(OUTCOME_KEYS[type], data.messageId);
    const at = now.toISOString();
    return {
      id,
      type,
      data,
      metadata: {
        workspaceId: scheduled.workspaceId,
        customerId: scheduled.customerId,
        occurredAt: at,
        recordedAt: at,
        causationId: scheduled.eventId,
        correlationId: scheduled.correlationId ?? scheduled.eventId,
        source: 'dispatcher',
        schemaVersion: currentSchemaVersion(type),
      },
    } as DeliveryEvent;
  };
}
