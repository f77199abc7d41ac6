/**
 * Broadcasts, pure: a one-off send to a segment's members (`broadcast-<workspace>-<broadcastId>`), now, at an instant,
 * or at a local wall-clock time in each member's own time zone. Three parts:
 *
 * - `validateBroadcast`: the request (its send validated exactly as a trigger's `send` step is, its guards as a
 *   trigger's, the time not in the past);
 * - the broadcast decider (`decideBroadcast`, `evolveBroadcast`): BroadcastScheduled with the durable timer of its start
 *   (on the broadcast stream, purpose `broadcast:<id>`), BroadcastCancelled; the fan-out's BroadcastProgressed and
 *   BroadcastCompleted (`progressed`, `completed`);
 * - the decision per member (`decideForMember`), from the customer's stream: a message through `checkGuards`
 *   (MessageScheduled or MessageSuppressed, id `broadcastMessageId`), or for a local-time broadcast a TimerScheduled at
 *   the member's local time (purpose `broadcast:<id>`), decided when it fires (`decideWhenDue`). A member is reached
 *   once: every decision has one event id per broadcast and customer, and a customer whose stream already holds the
 *   broadcast's decision (or timer) is answered with it (`reachedBy`), so a replay or a fan-out resumed after a crash
 *   decides nothing twice.
 */
import { envelope } from '../envelope';
import { typed, type EventDataByType, type JourneyEvent } from '../events';
import { deterministicId } from '../ids';
import { applyToView, customerTimeZone, emptyCustomerView, type CustomerView } from '../triggers/customer';
import { checkGuards, type QuietHours } from '../triggers/guards';
import { parseDuration, zonedTime } from '../triggers/time';
import { formatValidationError, validateTrigger, type TriggerValidationPorts } from '../triggers/validate';

export const BROADCAST_SOURCE = 'reactor:broadcasts';
export const BROADCAST_STREAM_PREFIX = 'broadcast-';
export const BROADCAST_EVENT_TYPES = ['BroadcastScheduled', 'BroadcastProgressed', 'BroadcastCompleted', 'BroadcastCancelled'];
/** Timer purpose of a broadcast: its start (broadcast stream) and each member's local time (customer stream). */
export const broadcastPurpose = (broadcastId: string) => `broadcast:${broadcastId}`;
export const broadcastOfPurpose = (purpose: string) => (purpose.startsWith('broadcast:') ? purpose.slice('broadcast:'.length) : undefined);

/** What a broadcast's fan-out decided so far: members reached, scheduled, suppressed by reason, local-time timers, skipped. */
export type BroadcastCounts = EventDataByType['BroadcastCompleted']['counts'];

export type BroadcastDefinition = Omit<EventDataByType['BroadcastScheduled'], 'startAt' | 'by'>;
export type BroadcastStatus = 'scheduled' | 'sending' | 'completed' | 'cancelled';

/** The message id of a broadcast's message to a customer: one per broadcast and customer. */
export function broadcastMessageId(workspaceId: string, broadcastId: string, customerId: string): string {
  return deterministicId('broadcast-message', workspaceId, broadcastId, customerId);
}

/** A local wall-clock time `YYYY-MM-DDTHH:MM`. */
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** The zones furthest apart: a wall-clock time happens first at UTC+14 (Kiribati) and last at UTC-12. */
const EARLIEST_ZONE = 'Etc/GMT-14';
const LATEST_ZONE = 'Etc/GMT+12';
/** An `at` up to this far in the past is taken as now (a client's clock may lag). */
const AT_TOLERANCE_MS = 60_000;

export function parseLocalTime(text: string) {
  const m = LOCAL_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59) return undefined;
  return { year, month, day, hour, minute };
}

/** The instant `localTime` happens in the zone. */
export function localTimeIn(localTime: string, timeZone: string): number {
  return zonedTime(parseLocalTime(localTime)!, timeZone);
}

export type BroadcastValidation =
  { ok: true; broadcastId?: string; definition: BroadcastDefinition; startAt: number } | { ok: false; errors: string[] };

const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/**
 * Validates a broadcast request: `{ id?, segmentId, send: { channel, body, subject?, topic? }, at? | localTime?,
 * guards? }`. The send and the guards are checked by the trigger validator as a one-step trigger (so a broadcast refuses
 * exactly what a trigger's send would: unknown channel, a template the dispatcher's Liquid does not parse, bad caps or
 * quiet hours); `at` must not be in the past, `localTime` not past in every zone. Errors as `path: what is wrong`.
 */
export function validateBroadcast(input: unknown, ports: TriggerValidationPorts, now: number): BroadcastValidation {
  const errors: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, errors: ['body: expected an object'] };
  const doc = input as Record<string, unknown>;
  const known = ['id', 'segmentId', 'send', 'at', 'localTime', 'guards'];
  for (const k of Object.keys(doc)) if (!known.includes(k)) errors.push(`${k}: unknown field; expected ${known.join(', ')}`);
  if (doc.id !== undefined && (typeof doc.id !== 'string' || !ID.test(doc.id)))
    errors.push(`id: expected letters, digits, "-" or "_" (at most 64), got ${show(doc.id)}`);
  if (typeof doc.segmentId !== 'string' || doc.segmentId.trim() === '')
    errors.push(`segmentId: expected a segment id, got ${show(doc.segmentId)}`);
  if (doc.send === undefined) errors.push('send: required ({ channel, body, subject?, topic? })');
  else if (typeof doc.send !== 'object' || doc.send === null || Array.isArray(doc.send)) errors.push('send: expected an object');
  else {
    const send = doc.send as Record<string, unknown>;
    for (const k of Object.keys(send))
      if (!['channel', 'body', 'subject', 'topic'].includes(k))
        errors.push(`send.${k}: unknown field; expected channel, body, subject, topic`);
  }
  const guards = doc.guards as { frequencyCaps?: Array<{ scope?: unknown }> } | undefined;
  if (guards && typeof guards === 'object' && Array.isArray(guards.frequencyCaps))
    guards.frequencyCaps.forEach((c, i) => {
      if (c && typeof c === 'object' && c.scope === 'trigger')
        errors.push(
          `guards.frequencyCaps[${i}].scope: "trigger" counts a trigger's messages; a broadcast's caps are "customer" or "channel"`,
        );
    });
  if (errors.length === 0) {
    // the send and the guards as a one-step trigger: the same checks, the same messages (paths mapped back)
    const asTrigger = {
      id: 'broadcast',
      name: 'broadcast',
      entry: { event: 'broadcast' },
      steps: [{ send: doc.send }],
      ...(doc.guards !== undefined ? { guards: doc.guards } : {}),
    };
    const checked = validateTrigger(asTrigger, ports);
    if (!checked.ok)
      for (const e of checked.errors)
        errors.push(formatValidationError({ ...e, path: e.path.replace(/^steps\[0\]\.send/, 'send').replace(/^steps\[0\]$/, 'send') }));
  }
  let startAt = now;
  if (doc.at !== undefined && doc.localTime !== undefined) errors.push('at, localTime: give one of them (or neither: now)');
  else if (doc.at !== undefined) {
    const at = typeof doc.at === 'string' && /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(doc.at) ? Date.parse(doc.at) : NaN;
    if (Number.isNaN(at)) errors.push(`at: expected an ISO 8601 instant with its offset, like "2026-12-10T09:00:00Z", got ${show(doc.at)}`);
    else if (at < now - AT_TOLERANCE_MS) errors.push(`at: ${String(doc.at)} is in the past (now is ${new Date(now).toISOString()})`);
    else startAt = Math.max(at, now);
  } else if (doc.localTime !== undefined) {
    if (typeof doc.localTime !== 'string' || !parseLocalTime(doc.localTime))
      errors.push(`localTime: expected a local date and time like "2026-12-10T09:00" (no offset), got ${show(doc.localTime)}`);
    else if (localTimeIn(doc.localTime, LATEST_ZONE) <= now)
      errors.push(`localTime: ${doc.localTime} has passed in every time zone (now is ${new Date(now).toISOString()})`);
    else startAt = Math.max(now, localTimeIn(doc.localTime, EARLIEST_ZONE));
  }
  if (errors.length > 0) return { ok: false, errors };
  const send = doc.send as BroadcastDefinition['send'];
  const definition: BroadcastDefinition = {
    broadcastId: typeof doc.id === 'string' ? doc.id : '',
    segmentId: doc.segmentId as string,
    send: {
      channel: send.channel,
      ...(send.subject !== undefined ? { subject: send.subject } : {}),
      body: send.body,
      ...(send.topic !== undefined ? { topic: send.topic } : {}),
    },
    ...(doc.at !== undefined ? { at: new Date(Date.parse(doc.at as string)).toISOString() } : {}),
    ...(doc.localTime !== undefined ? { localTime: doc.localTime as string } : {}),
    ...(doc.guards !== undefined ? { guards: doc.guards as BroadcastDefinition['guards'] } : {}),
  };
  return { ok: true, ...(typeof doc.id === 'string' ? { broadcastId: doc.id } : {}), definition, startAt };
}

// ── the broadcast stream

export const emptyCounts = (): BroadcastCounts => ({ targeted: 0, scheduled: 0, suppressed: {}, timers: 0, skipped: 0 });

export interface BroadcastState {
  broadcastId: string;
  /** Events in the stream (the next expected revision is `revision - 1`). */
  revision: number;
  status?: BroadcastStatus;
  definition?: EventDataByType['BroadcastScheduled'];
  scheduledAt?: string;
  /** The start timer (on the broadcast stream) and whether it fired. */
  startTimerId?: string;
  started: boolean;
  /** The last member reached (customer ids in order): where a resumed fan-out goes on. */
  cursor?: string;
  counts: BroadcastCounts;
  completedAt?: string;
  cancelledAt?: string;
  cancelledBy?: string;
}

export const initialBroadcastState = (broadcastId: string): BroadcastState => ({
  broadcastId,
  revision: 0,
  started: false,
  counts: emptyCounts(),
});

export function evolveBroadcast(state: BroadcastState, event: JourneyEvent): BroadcastState {
  const e = typed(event);
  const next = { ...state, revision: state.revision + 1 };
  switch (e.type) {
    case 'BroadcastScheduled':
      return { ...next, status: 'scheduled', definition: e.data, scheduledAt: e.metadata.recordedAt };
    case 'TimerScheduled':
      return { ...next, startTimerId: e.data.timerId };
    case 'TimerFired':
      return e.data.timerId === state.startTimerId && state.status === 'scheduled' ? { ...next, started: true, status: 'sending' } : next;
    case 'BroadcastProgressed':
      return { ...next, cursor: e.data.after, counts: e.data.counts };
    case 'BroadcastCompleted':
      return { ...next, status: 'completed', counts: e.data.counts, completedAt: e.metadata.recordedAt };
    case 'BroadcastCancelled':
      return { ...next, status: 'cancelled', cancelledAt: e.metadata.recordedAt, ...(e.data.by ? { cancelledBy: e.data.by } : {}) };
    default:
      return next;
  }
}

export const foldBroadcast = (broadcastId: string, events: readonly JourneyEvent[]) =>
  events.reduce(evolveBroadcast, initialBroadcastState(broadcastId));

/** A local-time broadcast's last moment: its wall-clock time in the last zone (members' timers fire until then). */
export function lastDueAt(definition: { localTime?: string; startAt: string }): number {
  return definition.localTime ? localTimeIn(definition.localTime, LATEST_ZONE) : Date.parse(definition.startAt);
}

export type BroadcastCommand =
  { type: 'ScheduleBroadcast'; definition: BroadcastDefinition; startAt: number } | { type: 'CancelBroadcast' };

export class BroadcastCommandError extends Error {
  constructor(
    readonly code: 'exists' | 'not_found' | 'not_cancellable',
    message: string,
  ) {
    super(message);
  }
}

export interface BroadcastContext {
  workspaceId: string;
  now: Date;
  by?: string;
}

/**
 * The broadcast decider. Schedule: BroadcastScheduled and the durable timer of its start, due at `startAt` (now, `at`,
 * or the first zone's `localTime`). Cancel: before it completes, or, for a local-time broadcast, before its time has
 * come in the last zone (the members' pending timers then decide `broadcast-cancelled`); the start timer is cancelled
 * when it has not fired. Ids derive from the broadcast, so a retried command writes nothing twice.
 */
export function decideBroadcast(command: BroadcastCommand, state: BroadcastState, ctx: BroadcastContext): JourneyEvent[] {
  const id = state.broadcastId;
  const iso = ctx.now.toISOString();
  const make = <T extends keyof EventDataByType>(type: T, data: EventDataByType[T], ...idParts: string[]) =>
    envelope({
      id: deterministicId('broadcast', ctx.workspaceId, id, type, ...idParts),
      type,
      data,
      workspaceId: ctx.workspaceId,
      customerId: '',
      occurredAt: iso,
      recordedAt: iso,
      source: 'http',
    }) as JourneyEvent;
  if (command.type === 'ScheduleBroadcast') {
    if (state.status) throw new BroadcastCommandError('exists', `id: broadcast "${id}" already exists`);
    const startAt = new Date(command.startAt).toISOString();
    const scheduled = make('BroadcastScheduled', {
      ...command.definition,
      broadcastId: id,
      startAt,
      ...(ctx.by ? { by: ctx.by } : {}),
    });
    const timer = make('TimerScheduled', {
      timerId: deterministicId('broadcast-start', ctx.workspaceId, id),
      dueAt: startAt,
      purpose: broadcastPurpose(id),
      payload: { broadcastId: id, start: true },
    });
    return [scheduled, { ...timer, metadata: { ...timer.metadata, causationId: scheduled.id, correlationId: scheduled.id } }];
  }
  if (!state.status || !state.definition) throw new BroadcastCommandError('not_found', `broadcast "${id}" not found`);
  if (state.status === 'cancelled') throw new BroadcastCommandError('not_cancellable', `broadcast "${id}" is already cancelled`);
  const localPending = state.definition.localTime !== undefined && ctx.now.getTime() < lastDueAt(state.definition);
  if (state.status === 'completed' && !localPending)
    throw new BroadcastCommandError('not_cancellable', `broadcast "${id}" has completed (${state.completedAt}): its messages are sent`);
  const out = [make('BroadcastCancelled', { broadcastId: id, ...(ctx.by ? { by: ctx.by } : {}) })];
  if (!state.started && state.startTimerId)
    out.push(make('TimerCancelled', { timerId: state.startTimerId, reason: 'broadcast cancelled' }));
  return out;
}

/** The fan-out's progress (after a page of members) and its end. */
export function progressed(
  workspaceId: string,
  broadcastId: string,
  after: string,
  counts: BroadcastCounts,
  now: Date,
  cause: JourneyEvent,
) {
  return fanOutEvent(workspaceId, broadcastId, 'BroadcastProgressed', { broadcastId, after, counts }, now, cause, after);
}

export function completed(workspaceId: string, broadcastId: string, counts: BroadcastCounts, now: Date, cause: JourneyEvent) {
  return fanOutEvent(workspaceId, broadcastId, 'BroadcastCompleted', { broadcastId, counts }, now, cause);
}

function fanOutEvent<T extends 'BroadcastProgressed' | 'BroadcastCompleted'>(
  workspaceId: string,
  broadcastId: string,
  type: T,
  data: EventDataByType[T],
  now: Date,
  cause: JourneyEvent,
  ...idParts: string[]
): JourneyEvent {
  const iso = now.toISOString();
  return envelope({
    id: deterministicId('broadcast', workspaceId, broadcastId, type, ...idParts),
    type,
    data,
    workspaceId,
    customerId: '',
    occurredAt: iso,
    recordedAt: iso,
    cause,
    source: BROADCAST_SOURCE,
  }) as JourneyEvent;
}

// ── one member

/** What the customer's stream already holds of a broadcast: its decision (scheduled, suppressed) or its timer. */
export type Reached = { kind: 'scheduled' } | { kind: 'suppressed'; reason: string } | { kind: 'timer'; timerId: string };

export function reachedBy(stream: readonly JourneyEvent[], broadcastId: string): Reached | undefined {
  let out: Reached | undefined;
  for (const event of stream) {
    const e = typed(event);
    if (e.type === 'MessageScheduled' && e.data.broadcastId === broadcastId) return { kind: 'scheduled' };
    if (e.type === 'MessageSuppressed' && e.data.broadcastId === broadcastId) return { kind: 'suppressed', reason: e.data.reason };
    if (e.type === 'TimerScheduled' && e.data.purpose === broadcastPurpose(broadcastId)) out = { kind: 'timer', timerId: e.data.timerId };
  }
  return out;
}

/** Whether the customer's stream has them in the segment now (SegmentEntered / SegmentLeft: the source of truth). */
export function inSegment(stream: readonly JourneyEvent[], segmentId: string): boolean {
  let member = false;
  for (const e of stream) {
    if ((e.type === 'SegmentEntered' || e.type === 'SegmentLeft') && e.data.segmentId === segmentId) member = e.type === 'SegmentEntered';
    if (e.type === 'CustomerForgotten') member = false;
  }
  return member;
}

export interface MemberContext {
  workspaceId: string;
  customerId: string;
  now: Date;
  /** The event the decision answers: the broadcast's fired start timer, or the member's fired local-time timer. */
  cause: JourneyEvent;
  /** The workspace's default quiet hours (its settings, when the message is decided), for a broadcast without its own. */
  workspaceQuietHours?: QuietHours;
}

/** What deciding for one member gave: the events to append to their stream, and how to count it. */
export interface MemberDecision {
  events: JourneyEvent[];
  outcome: Reached | { kind: 'skipped' };
}

/**
 * The fan-out's decision for one member, from their stream: not in the segment by their stream → skipped; reached
 * already → that (nothing appended); a local-time broadcast → a timer at the member's local time (a time already past
 * in their zone: MessageSuppressed `local-time-passed`, never a late send); else the message through the guards.
 */
export function decideForMember(
  broadcast: EventDataByType['BroadcastScheduled'],
  stream: readonly JourneyEvent[],
  ctx: MemberContext,
): MemberDecision {
  const reached = reachedBy(stream, broadcast.broadcastId);
  if (reached) return { events: [], outcome: reached };
  if (!inSegment(stream, broadcast.segmentId)) return { events: [], outcome: { kind: 'skipped' } };
  const view = viewOf(stream);
  if (!broadcast.localTime) return decideMessage(broadcast, view, ctx);
  const timeZone = customerTimeZone(view);
  const dueAt = localTimeIn(broadcast.localTime, timeZone);
  if (dueAt <= ctx.now.getTime()) {
    const detail = `${broadcast.localTime} in ${timeZone} was ${new Date(dueAt).toISOString()}, before the broadcast reached the customer`;
    return suppressed(broadcast, ctx, 'local-time-passed', detail, [{ guard: 'local-time', verdict: 'suppressed', detail }]);
  }
  const timerId = deterministicId('broadcast-timer', ctx.workspaceId, broadcast.broadcastId, ctx.customerId);
  const timer = memberEvent(ctx, 'TimerScheduled', {
    timerId,
    dueAt: new Date(dueAt).toISOString(),
    purpose: broadcastPurpose(broadcast.broadcastId),
    payload: { broadcastId: broadcast.broadcastId, localTime: broadcast.localTime, timeZone },
  });
  return { events: [timer], outcome: { kind: 'timer', timerId } };
}

/**
 * A member's local-time timer fired: the message through the guards, unless the broadcast was cancelled meanwhile
 * (MessageSuppressed `broadcast-cancelled`) or the stream holds its decision already (a replay: nothing).
 */
export function decideWhenDue(
  broadcast: EventDataByType['BroadcastScheduled'],
  cancelled: boolean,
  stream: readonly JourneyEvent[],
  ctx: MemberContext,
): JourneyEvent[] {
  const reached = reachedBy(stream, broadcast.broadcastId);
  if (reached && reached.kind !== 'timer') return [];
  if (cancelled) {
    const detail = 'the broadcast was cancelled before its local time';
    return suppressed(broadcast, ctx, 'broadcast-cancelled', detail, [{ guard: 'broadcast', verdict: 'suppressed', detail }]).events;
  }
  return decideMessage(broadcast, viewOf(stream), ctx).events;
}

function viewOf(stream: readonly JourneyEvent[]) {
  const view = emptyCustomerView();
  for (const e of stream) applyToView(view, e);
  return view;
}

function decideMessage(broadcast: EventDataByType['BroadcastScheduled'], view: CustomerView, ctx: MemberContext): MemberDecision {
  const { send } = broadcast;
  const caps = (broadcast.guards?.frequencyCaps ?? []).map((c) => ({ ...c, perMs: parseDuration(c.per)!.ms }));
  const outcome = checkGuards(
    { triggerId: broadcastPurpose(broadcast.broadcastId), priority: 0, caps, quietHours: broadcast.guards?.quietHours },
    send,
    {
      now: ctx.now.getTime(),
      traits: view.traits,
      timeZone: customerTimeZone(view),
      messages: view.messages,
      ...(ctx.workspaceQuietHours ? { workspaceQuietHours: ctx.workspaceQuietHours } : {}),
    },
  );
  if (outcome.suppressed) return suppressed(broadcast, ctx, outcome.suppressed.reason, outcome.suppressed.detail, outcome.guards);
  const scheduled = memberEvent(ctx, 'MessageScheduled', {
    messageId: broadcastMessageId(ctx.workspaceId, broadcast.broadcastId, ctx.customerId),
    channel: send.channel,
    template: { ...(send.subject !== undefined ? { subject: send.subject } : {}), body: send.body },
    causingEventId: ctx.cause.id,
    ...(outcome.notBefore ? { notBefore: new Date(outcome.notBefore).toISOString() } : {}),
    guards: outcome.guards,
    broadcastId: broadcast.broadcastId,
  });
  return { events: [scheduled], outcome: { kind: 'scheduled' } };
}

function suppressed(
  broadcast: EventDataByType['BroadcastScheduled'],
  ctx: MemberContext,
  reason: string,
  detail: string,
  guards: EventDataByType['MessageSuppressed']['guards'],
): MemberDecision {
  const event = memberEvent(ctx, 'MessageSuppressed', {
    messageId: broadcastMessageId(ctx.workspaceId, broadcast.broadcastId, ctx.customerId),
    channel: broadcast.send.channel,
    reason,
    detail,
    guards,
    broadcastId: broadcast.broadcastId,
  });
  return { events: [event], outcome: { kind: 'suppressed', reason } };
}

/** An event on the member's stream: one id per broadcast, customer and kind (a decision is one kind, whatever its outcome). */
function memberEvent<T extends 'MessageScheduled' | 'MessageSuppressed' | 'TimerScheduled'>(
  ctx: MemberContext,
  type: T,
  data: EventDataByType[T],
): JourneyEvent {
  const broadcastId =
    (data as { broadcastId?: string }).broadcastId ?? String((data as { payload?: { broadcastId?: string } }).payload?.broadcastId);
  const iso = ctx.now.toISOString();
  return envelope({
    id: deterministicId('broadcast', ctx.workspaceId, broadcastId, ctx.customerId, type === 'TimerScheduled' ? 'timer' : 'decision'),
    type,
    data,
    workspaceId: ctx.workspaceId,
    customerId: ctx.customerId,
    occurredAt: iso,
    recordedAt: iso,
    cause: ctx.cause,
    source: BROADCAST_SOURCE,
  }) as JourneyEvent;
}

/** Adds a member's outcome to the fan-out's counts. */
export function countOutcome(counts: BroadcastCounts, outcome: MemberDecision['outcome']): BroadcastCounts {
  if (outcome.kind === 'skipped') return { ...counts, skipped: counts.skipped + 1 };
  const targeted = counts.targeted + 1;
  if (outcome.kind === 'scheduled') return { ...counts, targeted, scheduled: counts.scheduled + 1 };
  if (outcome.kind === 'timer') return { ...counts, targeted, timers: counts.timers + 1 };
  return { ...counts, targeted, suppressed: { ...counts.suppressed, [outcome.reason]: (counts.suppressed[outcome.reason] ?? 0) + 1 } };
}
