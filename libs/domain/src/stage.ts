import { ACTIVITY_TYPES, typed, type JourneyEvent, type Stage, type Traits, type TypedEvent } from './events';
import { eventTime as eventMs } from './event-time';
import { deterministicId } from './ids';
import { envelope } from './envelope';

/**
 * The customer stage model (lifecycle): a pure decider. `evolveStage` folds a customer's stream into `StageState`;
 * `decideStage` answers one incoming event with the events it causes (`StageChanged`, `TimerScheduled`,
 * `TimerCancelled`). Time is passed in; every id is deterministic from (customer, causing event, purpose), so deciding
 * the same event twice yields the same events (a replay appends nothing new).
 *
 * Transitions:
 * - (none) -> onboarding: the customer's first activity event (identify, track, page, group).
 * - onboarding -> active: a track event named in `policy.activationEvents`.
 * - onboarding | active | renewal -> at-risk: no activity for `policy.inactivityDays` (durable timer `stage:inactivity`).
 * - onboarding | active -> renewal: `policy.renewalNoticeDays` before the `renewal_date` trait (timer `stage:renewal`).
 *   An at-risk customer stays at-risk when the notice comes (the inactivity is the more urgent signal).
 * - renewal -> active: the `renewal_date` trait moves out of the notice window (the customer renewed).
 * - any -> churned: a track event named in `policy.churnEvents`, or the trait `status` = "churned".
 * - at-risk | churned -> active (reactivation): activity after the at-risk deadline / after the churn.
 *
 * The inactivity timer is re-armed lazily: at most one is pending (none while at-risk or churned); when it fires the
 * decider compares the latest activity (the max `occurredAt` seen, so late events never move it back) with the timer's
 * due time and either marks the customer at risk or schedules the next deadline. This costs one timer per inactivity
 * period instead of two events per activity event, and a late event still counts because the check happens when the
 * timer fires.
 */

export interface StagePolicy {
  /** Days without activity before a customer is at risk (fractions allowed: tests use seconds). */
  inactivityDays: number;
  /** Days before the `renewal_date` trait when the renewal stage starts. */
  renewalNoticeDays: number;
  /** Track event names that activate an onboarding customer. */
  activationEvents: string[];
  /** Track event names that mean the customer churned. */
  churnEvents: string[];
}

export const DEFAULT_STAGE_POLICY: StagePolicy = {
  inactivityDays: 14,
  renewalNoticeDays: 30,
  activationEvents: ['Activated', 'Project Created'],
  churnEvents: ['Subscription Cancelled'],
};

export const INACTIVITY_TIMER = 'stage:inactivity';
export const RENEWAL_TIMER = 'stage:renewal';

export interface PendingTimer {
  timerId: string;
  dueAt: string;
}

export interface StageState {
  stage: Stage | null;
  /** Latest event time of any activity (max, so late events never move it back). */
  lastActivityAt?: string;
  /** The inactivity deadline that made the customer at risk. */
  atRiskAt?: string;
  churnedAt?: string;
  /** From the `renewal_date` trait (ISO 8601); invalid values are ignored. */
  renewalDate?: string;
  inactivityTimer?: PendingTimer;
  renewalTimer?: PendingTimer;
}

export const initialStageState: StageState = { stage: null };

export type StageEvent = TypedEvent<'StageChanged' | 'TimerScheduled' | 'TimerCancelled'>;

/**
 * Event types that can cause stage decisions. The model's own events (`StageChanged`, `TimerScheduled`,
 * `TimerCancelled`) are folded into the state by `evolveStage` but cause nothing.
 */
export const STAGE_INPUT_TYPES: readonly string[] = [...ACTIVITY_TYPES, 'TraitsUpdated', 'TimerFired'];

const DAY_MS = 86_400_000;

export function evolveStage(state: StageState, event: JourneyEvent): StageState {
  const e = typed(event);
  let next = state;
  switch (e.type) {
    case 'StageChanged': {
      const to = e.data.to;
      next = { ...state, stage: to };
      if (to === 'at-risk') next.atRiskAt = e.metadata.occurredAt;
      if (to === 'churned') next.churnedAt = e.metadata.occurredAt;
      return next;
    }
    case 'TimerScheduled': {
      const timer = { timerId: String(e.data.timerId), dueAt: String(e.data.dueAt) };
      if (e.data.purpose === INACTIVITY_TIMER) return { ...state, inactivityTimer: timer };
      if (e.data.purpose === RENEWAL_TIMER) return { ...state, renewalTimer: timer };
      return state;
    }
    case 'TimerFired':
    case 'TimerCancelled':
      if (state.inactivityTimer?.timerId === e.data.timerId) return { ...state, inactivityTimer: undefined };
      if (state.renewalTimer?.timerId === e.data.timerId) return { ...state, renewalTimer: undefined };
      return state;
  }
  if (e.type === 'CustomerIdentified' || e.type === 'TraitsUpdated') {
    const traits: Traits = e.data.traits ?? {};
    if ('renewal_date' in traits) {
      const renewal = traits.renewal_date;
      if (renewal === null || renewal === '') next = { ...next, renewalDate: undefined };
      else if (typeof renewal === 'string' && !Number.isNaN(Date.parse(renewal)))
        next = { ...next, renewalDate: new Date(renewal).toISOString() };
      // anything else is not a date: ignored, the previous renewal date stands
    }
  }
  if (ACTIVITY_TYPES.has(event.type)) {
    const at = eventTime(event);
    if (at !== undefined && (next.lastActivityAt === undefined || at > Date.parse(next.lastActivityAt))) {
      next = { ...next, lastActivityAt: new Date(at).toISOString() };
    }
  }
  return next;
}

export function decideStage(state: StageState, event: JourneyEvent, now: Date, policy: StagePolicy = DEFAULT_STAGE_POLICY): StageEvent[] {
  const next = evolveStage(state, event);
  const out: StageEvent[] = [];
  const { workspaceId, customerId } = event.metadata;
  const e = typed(event);
  const inactivityMs = policy.inactivityDays * DAY_MS;
  const emit = (type: StageEvent['type'], eventData: StageEvent['data'], step: string) =>
    out.push(
      envelope({
        id: deterministicId('stage', workspaceId, customerId, event.id, step),
        type,
        data: eventData,
        workspaceId,
        customerId,
        occurredAt: event.metadata.occurredAt,
        recordedAt: now.toISOString(),
        cause: event,
        source: 'reactor',
      }) as StageEvent,
    );
  let stage = state.stage;
  const changeTo = (to: Stage, reason: string) => {
    if (stage === to) return;
    emit('StageChanged', { from: stage, to, reason }, `changed:${to}`);
    stage = to;
  };
  const schedule = (purpose: string, dueMs: number, payload?: Record<string, unknown>) => {
    const timerId = deterministicId('stage-timer', workspaceId, customerId, event.id, purpose);
    emit(
      'TimerScheduled',
      { timerId, dueAt: new Date(dueMs).toISOString(), purpose, ...(payload ? { payload } : {}) },
      `schedule:${purpose}`,
    );
  };

  const churn = churnSignal(event, policy);
  if (churn) {
    changeTo('churned', churn);
  } else if (ACTIVITY_TYPES.has(event.type)) {
    const what = describe(event);
    if (stage === null) changeTo('onboarding', `first seen: ${what}`);
    const at = eventTime(event);
    if (stage === 'onboarding' && e.type === 'InteractionRecorded' && policy.activationEvents.includes(String(e.data.event))) {
      changeTo('active', `activation event ${what}`);
    } else if (
      stage === 'at-risk' &&
      next.lastActivityAt &&
      (!state.atRiskAt || Date.parse(next.lastActivityAt) + inactivityMs > Date.parse(state.atRiskAt))
    ) {
      changeTo('active', `reactivated: ${what}`);
    } else if (stage === 'churned' && at !== undefined && (!state.churnedAt || at > Date.parse(state.churnedAt))) {
      changeTo('active', `reactivated after churn: ${what}`);
    }
  }

  if (ACTIVITY_TYPES.has(event.type) && stage !== 'churned' && stage !== 'at-risk' && !next.inactivityTimer && next.lastActivityAt) {
    schedule(INACTIVITY_TIMER, Date.parse(next.lastActivityAt) + inactivityMs);
  }

  if (next.renewalDate !== state.renewalDate) {
    if (state.renewalTimer)
      emit(
        'TimerCancelled',
        { timerId: state.renewalTimer.timerId, reason: 'renewal date changed' },
        `cancel:${state.renewalTimer.timerId}`,
      );
    const renewalMs = next.renewalDate ? Date.parse(next.renewalDate) : undefined;
    const noticeMs = renewalMs === undefined ? undefined : renewalMs - policy.renewalNoticeDays * DAY_MS;
    if (renewalMs !== undefined && noticeMs !== undefined && renewalMs > now.getTime())
      schedule(RENEWAL_TIMER, noticeMs, { renewalDate: next.renewalDate });
    const windowOpen = renewalMs !== undefined && noticeMs !== undefined && noticeMs <= now.getTime() && now.getTime() < renewalMs;
    if (stage === 'renewal' && !windowOpen)
      changeTo('active', next.renewalDate ? `renewal date moved to ${next.renewalDate}` : 'renewal date removed');
  }

  if (e.type === 'TimerFired') {
    const timer = state.inactivityTimer;
    if (e.data.purpose === INACTIVITY_TIMER && timer && timer.timerId === e.data.timerId && state.lastActivityAt) {
      const deadline = Date.parse(state.lastActivityAt) + inactivityMs;
      if (deadline <= Date.parse(timer.dueAt)) {
        if (stage === 'onboarding' || stage === 'active' || stage === 'renewal')
          changeTo('at-risk', `no activity for ${policy.inactivityDays} days since ${state.lastActivityAt}`);
      } else if (stage !== 'churned') {
        schedule(INACTIVITY_TIMER, deadline);
      }
    }
    if (
      e.data.purpose === RENEWAL_TIMER &&
      state.renewalTimer?.timerId === e.data.timerId &&
      (stage === 'onboarding' || stage === 'active')
    ) {
      changeTo('renewal', `renewal on ${state.renewalDate}`);
    }
  }
  return out;
}

function churnSignal(event: JourneyEvent, policy: StagePolicy): string | undefined {
  const e = typed(event);
  if (e.type === 'InteractionRecorded' && policy.churnEvents.includes(String(e.data.event))) return `churn event ${describe(event)}`;
  if (e.type === 'CustomerIdentified' || e.type === 'TraitsUpdated') {
    const status = (e.data.traits ?? {}).status;
    if (typeof status === 'string' && status.toLowerCase() === 'churned') return 'trait status is "churned"';
  }
  return undefined;
}

function describe(event: JourneyEvent): string {
  const e = typed(event);
  return e.type === 'InteractionRecorded' ? `"${String(e.data.event)}"` : event.type;
}

/** Event time in ms (see the shared `eventTime`), undefined when the event carries no date. */
function eventTime(event: JourneyEvent): number | undefined {
  const at = eventMs(event);
  return Number.isNaN(at) ? undefined : at;
}
