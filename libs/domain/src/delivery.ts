import { typed, type EventDataByType, type JourneyEvent, type TypedEvent } from './events';
import { deterministicId } from './ids';
import { envelope, type Cause } from './envelope';

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
 * never attempted again, unless an admin asks for a failed one to be sent again (`requestResend`): a
 * MessageResendRequested clears the failure and starts a new round of attempts, with a fresh attempt and time budget,
 * under the same messageId (so the same idempotency key). Attempt numbers keep counting across rounds.
 *
 * Retries are durable: the log has each attempt's time (MessageSent), so `nextAttemptAt` tells a dispatcher that
 * starts again when the next attempt is due, and the budget is measured from the round's first attempt.
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
  /** Re-sends requested after a failure; the attempts before the last one (this round's attempts: `attempts - before`). */
  resends: number;
  before: number;
  /** When this round's first and latest attempts were made (MessageSent occurredAt). */
  roundStartedAt?: string;
  lastSentAt?: string;
}

export const initialDeliveryState = (): DeliveryState => ({ attempts: 0, resends: 0, before: 0 });

export type DeliveryEvent = TypedEvent<'MessageSent' | 'MessageDelivered' | 'MessageFailed' | 'MessageSuppressed'>;

export interface RetryPolicy {
  /** Attempts per round (Infinity: the budget decides). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry is planned later than this after the round's first attempt. */
  budgetMs: number;
}

/** Rendered content, kept on MessageDelivered for channels whose delivery is the event itself (the in-app inbox). */
export type DeliveredContent = NonNullable<EventDataByType['MessageDelivered']['content']>;

export type AttemptResult = { ok: true; detail?: string; content?: DeliveredContent } | { ok: false; retryable: boolean; error: string };

export type DeliveryCommand =
  | {
      type: 'StartAttempt';
      now: Date;
      retry: RetryPolicy;
      /** Why the message must not be sent, found by the dispatcher before sending (e.g. `unknown-channel`, `template-error`). */
      suppress?: { reason: string; detail?: string };
    }
  | { type: 'CompleteAttempt'; now: Date; attempt: number; retry: RetryPolicy; result: AttemptResult };

/** Folds one event of this message into its state; events of other messages must not be passed. */
export function evolveDelivery(state: DeliveryState, event: JourneyEvent): DeliveryState {
  const e = typed(event);
  switch (e.type) {
    case 'MessageScheduled': {
      const { workspaceId, customerId, correlationId } = e.metadata;
      return { ...state, scheduled: { eventId: e.id, workspaceId, customerId, correlationId, data: e.data } };
    }
    case 'MessageSent': {
      const attempt = e.data.attempt;
      if (attempt <= state.before) return state;
      const at = e.metadata.occurredAt;
      return { ...state, attempts: Math.max(state.attempts, attempt), roundStartedAt: state.roundStartedAt ?? at, lastSentAt: at };
    }
    case 'MessageResendRequested':
      if (state.outcome !== 'failed') return state;
      return {
        ...state,
        outcome: undefined,
        resends: state.resends + 1,
        before: state.attempts,
        roundStartedAt: undefined,
        lastSentAt: undefined,
      };
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
  const event = eventFactory(scheduled, state.resends, command.now);
  const { retry } = command;
  if (command.type === 'StartAttempt') {
    if (command.suppress) return [event('MessageSuppressed', { messageId, channel, ...command.suppress })];
    const round = state.attempts - state.before;
    const planned = nextAttemptAt(state, retry);
    const overBudget = planned !== undefined && pastBudget(state, retry, planned.getTime());
    if (round >= retry.maxAttempts || overBudget) {
      const error = `no outcome was recorded for attempt ${state.attempts} (the dispatcher stopped while sending) and ${overBudget ? budgetSpent(retry) : 'no attempts are left'}`;
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
  if (!result.retryable || attempt - state.before >= retry.maxAttempts)
    return [event('MessageFailed', { messageId, channel, attempts: attempt, error: result.error })];
  const retryAt = command.now.getTime() + retryDelayMs(retry, attempt - state.before);
  if (pastBudget(state, retry, retryAt)) {
    return [event('MessageFailed', { messageId, channel, attempts: attempt, error: `${result.error} (gave up: ${budgetSpent(retry)})` })];
  }
  return [];
}

/**
 * An admin's request to send a failed message again, or undefined when the message has not failed (it is waiting,
 * being sent, delivered or suppressed). Its id is the message's and the re-send's number: two requests racing for the
 * same failure are one event.
 */
export function requestResend(state: DeliveryState, now: Date): TypedEvent<'MessageResendRequested'> | undefined {
  const scheduled = state.scheduled;
  if (!scheduled || state.outcome !== 'failed') return undefined;
  const { messageId, channel } = scheduled.data;
  const resend = state.resends + 1;
  const at = now.toISOString();
  return envelope({
    id: deterministicId('message-resend-requested', messageId, resend),
    type: 'MessageResendRequested',
    data: { messageId, channel, resend },
    workspaceId: scheduled.workspaceId,
    customerId: scheduled.customerId,
    occurredAt: at,
    recordedAt: at,
    cause: causeOf(scheduled),
    source: 'admin',
  });
}

/** The MessageScheduled event the message's events are effects of. */
function causeOf(scheduled: NonNullable<DeliveryState['scheduled']>): Cause {
  return { id: scheduled.eventId, metadata: { correlationId: scheduled.correlationId } };
}

/** When this round's next attempt is due after a failed one (the latest MessageSent plus the backoff); undefined before the first. */
export function nextAttemptAt(state: DeliveryState, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): Date | undefined {
  const round = state.attempts - state.before;
  if (round === 0 || !state.lastSentAt) return undefined;
  const at = Date.parse(state.lastSentAt) + retryDelayMs(policy, round);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** Whether an attempt at `atMs` would start after the round's retry budget (measured from its first attempt). */
function pastBudget(state: DeliveryState, retry: RetryPolicy, atMs: number): boolean {
  return atMs - Date.parse(state.roundStartedAt ?? '') > retry.budgetMs;
}

const budgetSpent = (retry: RetryPolicy) => `the retry budget of ${formatMs(retry.budgetMs)} is spent`;

function formatMs(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** When the message may be sent (its `notBefore`), or undefined for at once. */
export function deliveryDueAt(state: DeliveryState): Date | undefined {
  const notBefore = state.scheduled?.data.notBefore;
  return notBefore ? new Date(notBefore) : undefined;
}

/** Exponential backoff: the wait after failed attempt `attempt` (1-based) is base * 2^(attempt-1), capped. */
export function retryDelayMs(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

const OUTCOME_KEYS = {
  MessageSent: 'message-sent',
  MessageDelivered: 'message-delivered',
  MessageFailed: 'message-failed',
  MessageSuppressed: 'message-suppressed',
} as const;

function eventFactory(scheduled: NonNullable<DeliveryState['scheduled']>, resends: number, now: Date) {
  const cause = causeOf(scheduled);
  return <T extends DeliveryEvent['type']>(type: T, data: EventDataByType[T]): DeliveryEvent => {
    // One id per attempt for MessageSent, one per message (and re-send) for an outcome: a replayed decision is a duplicate append.
    const id =
      type === 'MessageSent'
        ? deterministicId(OUTCOME_KEYS[type], data.messageId, (data as EventDataByType['MessageSent']).attempt)
        : resends === 0
          ? deterministicId(OUTCOME_KEYS[type], data.messageId)
          : deterministicId(OUTCOME_KEYS[type], data.messageId, 'resend', resends);
    const at = now.toISOString();
    return envelope({
      id,
      type,
      data,
      workspaceId: scheduled.workspaceId,
      customerId: scheduled.customerId,
      occurredAt: at,
      recordedAt: at,
      cause,
      source: 'dispatcher',
    }) as DeliveryEvent;
  };
}
