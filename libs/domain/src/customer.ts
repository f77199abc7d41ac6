import {
  ACTIVITY_TYPES,
  MESSAGE_STATUS,
  typed,
  type EventDataByType,
  type JourneyEvent,
  type MessageStatus,
  type Stage,
  type Traits,
} from './events';
import { eventTime as eventMs } from './event-time';
import { isTestMessageId } from './triggers/preview';

/**
 * A customer's current state, folded from the events of its stream (`customerStreamId(workspace, customerId)`).
 * Pure: `evolveCustomer(state, event) -> state`, no I/O, no clock. The `customers` read model stores one of these per
 * customer; `GET /v1/customers/:id?asOf=` folds the stream up to a moment with the same function.
 */
export interface CustomerState {
  workspaceId: string;
  customerId: string;
  /** `null` until the customer is identified (then `onboarding`) or a `StageChanged` says otherwise. */
  stage: Stage | null;
  /** Event time of the last stage change. */
  stageSince: string | null;
  /** Merged from CustomerIdentified and TraitsUpdated, in log order (the later recorded value wins). */
  traits: Traits;
  /** Group ids from AccountLinked (with their traits merged into `accountTraits`). */
  accounts: string[];
  accountTraits: Record<string, Traits>;
  /** Previous ids merged into this customer (IdentitiesMerged). */
  aliases: string[];
  /** The customer this id was merged into (CustomerMergedInto, #12): its history and later calls are there. */
  mergedInto?: string;
  /** Segments the customer is in now: SegmentEntered not followed by SegmentLeft, in order of entry (search: `segment=`). */
  segments: string[];
  /** Earliest / latest event time (occurredAt, normalised to ISO UTC) of the customer's own activity (ACTIVITY_TYPES). */
  firstSeen: string | null;
  lastSeen: string | null;
  interactions: { total: number; byEvent: Record<string, number> };
  pageViews: number;
  messages: MessageCounters;
  openTasks: OpenTask[];
  closedTasks: number;
  forgotten: boolean;
  /** 0..100, see `customerHealth`. */
  health: number;
}

/** How many of the customer's messages reached each status. */
export type MessageCounters = Record<MessageStatus, number>;

/** A CSM task opened on the customer and not closed yet: the CsmTaskOpened data that describes it, and when. */
export type OpenTask = Pick<EventDataByType['CsmTaskOpened'], 'taskId' | 'title' | 'owner' | 'priority' | 'dueAt' | 'triggerId'> & {
  openedAt: string;
};

export function initialCustomerState(workspaceId: string, customerId: string): CustomerState {
  return {
    workspaceId,
    customerId,
    stage: null,
    stageSince: null,
    traits: {},
    accounts: [],
    accountTraits: {},
    aliases: [],
    segments: [],
    firstSeen: null,
    lastSeen: null,
    interactions: { total: 0, byEvent: {} },
    pageViews: 0,
    messages: { scheduled: 0, sent: 0, delivered: 0, failed: 0, suppressed: 0, opened: 0, clicked: 0 },
    openTasks: [],
    closedTasks: 0,
    forgotten: false,
    health: 50,
  };
}

/** Applies one event of the customer's stream. Events of other types (timers, trigger matches) leave the state as it is. */
export function evolveCustomer(state: CustomerState, event: JourneyEvent): CustomerState {
  const next = withActivity(applyEvent(state, event), event);
  return next === state ? state : { ...next, health: customerHealth(next) };
}

/** Folds a customer's events (in log order) into its state. */
export function foldCustomer(workspaceId: string, customerId: string, events: Iterable<JourneyEvent>): CustomerState {
  let state = initialCustomerState(workspaceId, customerId);
  for (const e of events) state = evolveCustomer(state, e);
  return state;
}

function applyEvent(s: CustomerState, event: JourneyEvent): CustomerState {
  const e = typed(event);
  switch (e.type) {
    case 'CustomerIdentified': {
      const d = e.data;
      return {
        ...s,
        traits: mergeTraits(s, d.traits, event),
        stage: s.stage ?? 'onboarding',
        stageSince: s.stage ? s.stageSince : eventTime(event),
      };
    }
    case 'TraitsUpdated': {
      const d = e.data;
      return { ...s, traits: mergeTraits(s, d.traits, event) };
    }
    case 'AccountLinked': {
      const d = e.data;
      if (s.forgotten) return s;
      return {
        ...s,
        accounts: s.accounts.includes(d.groupId) ? s.accounts : [...s.accounts, d.groupId],
        accountTraits: { ...s.accountTraits, [d.groupId]: { ...s.accountTraits[d.groupId], ...d.traits } },
      };
    }
    case 'IdentitiesMerged': {
      const d = e.data;
      if (s.forgotten || s.aliases.includes(d.previousId) || d.previousId === s.customerId) return s;
      return { ...s, aliases: [...s.aliases, d.previousId] };
    }
    case 'CustomerMergedInto':
      return { ...s, mergedInto: e.data.userId };
    case 'SegmentEntered':
    case 'SegmentLeft':
      return withSegment(s, e.data.segmentId, e.type === 'SegmentEntered');
    case 'InteractionRecorded': {
      const d = e.data;
      return {
        ...s,
        interactions: {
          total: s.interactions.total + 1,
          byEvent: { ...s.interactions.byEvent, [d.event]: (s.interactions.byEvent[d.event] ?? 0) + 1 },
        },
      };
    }
    case 'PageViewed':
      return { ...s, pageViews: s.pageViews + 1 };
    case 'StageChanged': {
      const d = e.data;
      return { ...s, stage: d.to, stageSince: eventTime(event) };
    }
    case 'CsmTaskOpened': {
      const d = e.data;
      if (s.openTasks.some((t) => t.taskId === d.taskId)) return s;
      const task: OpenTask = {
        taskId: d.taskId,
        title: d.title,
        priority: d.priority,
        openedAt: eventTime(event) ?? event.metadata.occurredAt,
      };
      if (d.owner !== undefined) task.owner = d.owner;
      if (d.dueAt !== undefined) task.dueAt = d.dueAt;
      if (d.triggerId !== undefined) task.triggerId = d.triggerId;
      return { ...s, openTasks: [...s.openTasks, task] };
    }
    case 'CsmTaskAssigned': {
      const d = e.data;
      return { ...s, openTasks: s.openTasks.map((t) => (t.taskId === d.taskId ? { ...t, owner: d.assignee } : t)) };
    }
    case 'CsmTaskClosed': {
      const d = e.data;
      if (!s.openTasks.some((t) => t.taskId === d.taskId)) return s;
      return { ...s, openTasks: s.openTasks.filter((t) => t.taskId !== d.taskId), closedTasks: s.closedTasks + 1 };
    }
    case 'CustomerForgotten':
      return { ...s, forgotten: true, traits: {}, accountTraits: {}, aliases: [] };
    default: {
      const status = MESSAGE_STATUS.get(e.type);
      // a test send (preview) is no message to the customer: not counted
      if (!status || isTestMessageId((e.data as { messageId?: unknown }).messageId)) return s;
      return { ...s, messages: { ...s.messages, [status]: s.messages[status] + 1 } };
    }
  }
}

/** Segment membership (the shared contract: SegmentEntered/SegmentLeft on the customer stream is its only source). */
function withSegment(s: CustomerState, segmentId: string, member: boolean): CustomerState {
  const segments = s.segments ?? [];
  if (segments.includes(segmentId) === member) return s;
  return { ...s, segments: member ? [...segments, segmentId] : segments.filter((id) => id !== segmentId) };
}

/**
 * Personal data is not kept once the customer is forgotten (GDPR): later trait updates are ignored too. A merged id's
 * traits (copies, `metadata.mergedFrom`) only fill in what the customer has no value for: the user's own traits win.
 */
function mergeTraits(s: CustomerState, traits: Traits | undefined, event: JourneyEvent): Traits {
  if (s.forgotten) return s.traits;
  return event.metadata.mergedFrom !== undefined ? { ...traits, ...s.traits } : { ...s.traits, ...traits };
}

/** firstSeen / lastSeen move with the event time of activity events, so a late event can move firstSeen back. */
function withActivity(s: CustomerState, event: JourneyEvent): CustomerState {
  if (!ACTIVITY_TYPES.has(event.type)) return s;
  const at = eventTime(event);
  if (at === null) return s;
  const firstSeen = s.firstSeen === null || at < s.firstSeen ? at : s.firstSeen;
  const lastSeen = s.lastSeen === null || at > s.lastSeen ? at : s.lastSeen;
  return firstSeen === s.firstSeen && lastSeen === s.lastSeen ? s : { ...s, firstSeen, lastSeen };
}

/** The event time normalised to ISO UTC (so string comparison is time comparison), or null when it is not a date. */
function eventTime(event: JourneyEvent): string | null {
  const ms = eventMs(event);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const STAGE_BASE: Record<Stage, number> = { onboarding: 60, active: 80, renewal: 70, 'at-risk': 30, churned: 0 };

/**
 * Health, 0..100, a simple explainable score that depends on the log only (no clock, so rebuilding gives the same
 * number; inactivity shows through the stage, which the stage reactor moves to `at-risk`):
 * - base by stage: active 80, renewal 70, onboarding 60, at-risk 30, churned 0, not yet identified 50;
 * - activity: +1 per 10 interactions or page views, at most +10;
 * - engagement: +10 when the customer opened or clicked any message;
 * - a person is needed: -10 per open CSM task, at most -30;
 * - unreachable: -5 per failed message, at most -10.
 */
export function customerHealth(s: CustomerState): number {
  const base = s.stage === null ? 50 : STAGE_BASE[s.stage];
  const activity = Math.min(10, Math.floor((s.interactions.total + s.pageViews) / 10));
  const engagement = s.messages.opened + s.messages.clicked > 0 ? 10 : 0;
  const tasks = Math.min(30, 10 * s.openTasks.length);
  const failures = Math.min(10, 5 * s.messages.failed);
  return Math.max(0, Math.min(100, base + activity + engagement - tasks - failures));
}
