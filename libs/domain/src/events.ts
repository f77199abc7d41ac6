/**
 * The event model (DESIGN.md "Event model"). Pure types and constructors: no I/O, no clock.
 */

import type { AssignmentReason, ConversationChannel, MemberDefinition, SlaTarget, TeamDefinition } from './conversations/types';
import type { WorkspaceSettings } from './conversations/types';
import type { TaskPriority } from './triggers/schema';
import type { DeadLetterResolvedData, DeadLetterRetryRequestedData, EventQuarantinedData } from './dead-letters';

export interface EventMetadata {
  workspaceId: string;
  customerId: string;
  /** Event time as the client saw it (ISO 8601). */
  occurredAt: string;
  /** When the engine recorded it (ISO 8601). */
  recordedAt: string;
  causationId?: string;
  correlationId?: string;
  /** Identity merge (#12): a copy, on the user's stream, of an event of the anonymous id named here (history: folded, never decided on). */
  mergedFrom?: string;
  /** Identity merge (#12): an event sent under this merged id after the merge, recorded on the user's stream (live). */
  routedFrom?: string;
  /** Who produced it: `http`, `kafka`, `reactor`, `dispatcher`, `admin`, ... */
  source: string;
  schemaVersion: number;
}

export interface JourneyEvent<T extends string = string, D = Record<string, unknown>> {
  id: string;
  type: T;
  data: D;
  metadata: EventMetadata;
}

/** An event as stored: its stream, its revision in the stream and its global position. */
export type RecordedEvent<E extends JourneyEvent = JourneyEvent> = E & {
  streamId: string;
  revision: bigint;
  position: bigint;
};

export type Traits = Record<string, unknown>;
export type Properties = Record<string, unknown>;

export const STAGES = ['onboarding', 'active', 'at-risk', 'renewal', 'churned'] as const;
export type Stage = (typeof STAGES)[number];

/** Event data shapes, by type. */
export interface EventDataByType {
  CustomerIdentified: { userId?: string; anonymousId?: string; traits: Traits; context?: Properties };
  TraitsUpdated: { traits: Traits; by?: string };
  InteractionRecorded: { event: string; properties: Properties; context?: Properties };
  PageViewed: { kind: 'page' | 'screen'; name?: string; category?: string; properties: Properties };
  AccountLinked: { groupId: string; traits: Traits };
  IdentitiesMerged: { previousId: string; userId: string };
  StageChanged: { from: Stage | null; to: Stage; reason: string };
  /**
   * `key`: the run's key of a keyed trigger (`key: properties.cartId`: one run per value). `shadow`: a shadow version's
   * run (decides, never sends: its sends are MessageShadowed, its other effects only steps entered).
   */
  TriggerMatched: { triggerId: string; version: number; runId: string; causingEventId: string; key?: string; shadow?: boolean };
  MessageScheduled: {
    messageId: string;
    channel: string;
    triggerId?: string;
    triggerVersion?: number;
    templateId?: string;
    templateVersion?: number;
    /** Rendered later by the dispatcher from these inputs. */
    template: { subject?: string; body: string };
    to?: string;
    causingEventId?: string;
    notBefore?: string;
    /** Trigger sends: the run and the step address that sent it, and every guard checked (for explain). */
    runId?: string;
    step?: string;
    guards?: GuardVerdict[];
    /** The conversation the message belongs to (an agent's reply sent by email, a handoff posted to Slack). */
    conversationId?: string;
    /** The template is the text itself, not Liquid (an agent's reply: what a person wrote is sent as written). */
    literal?: boolean;
    /**
     * A trigger's `webhook` step (channel `http`): where and how to send `template.body`. The URL and header values are
     * Liquid templates too, and may name the workspace's secrets (`{{ secrets.crm_token }}`), resolved only at send time.
     */
    request?: { url: string; method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET'; headers?: Record<string, string> };
    /** A broadcast's message (`broadcast-<workspace>-<broadcastId>`): same guards, explain and analytics as a trigger's. */
    broadcastId?: string;
    /** A test send (preview): sent to `to`, never counted in analytics nor against frequency caps. */
    test?: boolean;
  };
  MessageSent: { messageId: string; channel: string; attempt: number };
  /** `content`: the rendered message, kept for channels whose delivery is this event itself (the in-app inbox). */
  MessageDelivered: { messageId: string; channel: string; attempt: number; detail?: string; content?: { subject?: string; body: string } };
  MessageFailed: { messageId: string; channel: string; attempts: number; error: string };
  /** An admin asked to send a failed message again (`resend`: 1 for the first re-send): same messageId, same Idempotency-Key. */
  MessageResendRequested: { messageId: string; channel: string; resend: number };
  /** Suppressed by a trigger's guards (with `triggerId`..`guards`) or by the dispatcher (unknown channel, ...). */
  MessageSuppressed: {
    messageId: string;
    channel: string;
    reason: string;
    detail?: string;
    triggerId?: string;
    triggerVersion?: number;
    runId?: string;
    step?: string;
    guards?: GuardVerdict[];
    broadcastId?: string;
  };
  MessageOpened: { messageId: string };
  MessageClicked: { messageId: string; url?: string };
  /** `triggerVersion`/`step`: the trigger step that opened it (its `closeOn` closes it). */
  CsmTaskOpened: {
    taskId: string;
    title: string;
    owner?: string;
    priority: string;
    dueAt?: string;
    triggerId?: string;
    triggerVersion?: number;
    step?: string;
  };
  /** `outcome`: what came of it (a CSM closing it over the API); `by`: the member who closed it. */
  CsmTaskClosed: { taskId: string; resolution: string; outcome?: string; by?: string };
  /** A task given to a member (`by`: who assigned it; absent: the engine). */
  CsmTaskAssigned: { taskId: string; assignee: string; by?: string; reason: AssignmentReason };
  /**
   * Conversations (on the customer's stream, `conversationId` naming one). `by`: the member who acted (a person);
   * absent on what the customer or automation did. Channel: where the customer's side of it happens.
   */
  ConversationStarted: {
    conversationId: string;
    channel: ConversationChannel;
    subject?: string;
    /** The engine's message the customer answered (its messageId), when the conversation began as a reply. */
    inReplyTo?: string;
    by?: string;
  };
  /** `providerId`: the inbound message's id at its provider (email Message-ID, ...): the event id derives from it. */
  CustomerReplied: {
    conversationId: string;
    messageId: string;
    channel: ConversationChannel;
    body: string;
    providerId?: string;
    /** VADER compound score in [-1, 1], when scored. */
    sentiment?: number;
  };
  /** A reply to the customer, by a member (`by`) or by automation (`automated`, with the trigger run that sent it). */
  AgentReplied: {
    conversationId: string;
    messageId: string;
    channel: ConversationChannel;
    body: string;
    by?: string;
    automated?: boolean;
    triggerId?: string;
    runId?: string;
  };
  /** Between colleagues; never shown to the customer. */
  InternalNoteAdded: { conversationId: string; noteId: string; body: string; by: string };
  /**
   * The conversation is handed to a team and/or a member. Once handed off (a team or a member holds it) automation
   * never answers in it until it is resolved.
   */
  ConversationAssigned: {
    conversationId: string;
    team?: string;
    assignee?: string;
    priority: TaskPriority;
    by?: string;
    reason: AssignmentReason;
    triggerId?: string;
    runId?: string;
  };
  ConversationTagged: { conversationId: string; tags: string[]; by?: string };
  ConversationSnoozed: { conversationId: string; until: string; by?: string };
  ConversationResolved: { conversationId: string; by?: string; automated?: boolean };
  ConversationReopened: { conversationId: string; by?: string; reason: 'customer-replied' | 'manual' | 'snooze-ended' };
  SatisfactionRated: { conversationId: string; score: number; comment?: string };
  /** A service-level target missed (raised by its durable timer): first response or resolution, of a conversation or task. */
  SlaBreached: {
    subject: 'conversation' | 'task';
    id: string;
    target: SlaTarget;
    dueAt: string;
    team?: string;
    priority: TaskPriority;
    assignee?: string;
  };
  /** Teams and members (`teams-<workspace>` stream, see conversations/organisation.ts). */
  TeamDefined: TeamDefinition;
  TeamRemoved: { teamId: string; by?: string };
  MemberDefined: MemberDefinition;
  MemberAvailabilityChanged: { memberId: string; away: boolean; until?: string; by?: string };
  MemberRemoved: { memberId: string; by?: string };
  /** Workspace settings (`workspace-<workspace>` stream, see conversations/settings.ts); secrets never leave it in answers. */
  WorkspaceSettingsChanged: { settings: WorkspaceSettings; by?: string };
  WorkspaceSecretSet: { name: string; value: string; by?: string };
  WorkspaceSecretRemoved: { name: string; by?: string };
  /**
   * A handoff post's message in Slack (`slack-<workspace>` stream): Slack's channel and `ts` of the post, whose thread's
   * replies are a member's answers in the conversation.
   */
  SlackThreadLinked: { channel: string; threadTs: string; customerId: string; conversationId: string };
  TimerScheduled: { timerId: string; dueAt: string; purpose: string; payload?: Properties };
  TimerFired: { timerId: string; purpose: string; payload?: Properties };
  TimerCancelled: { timerId: string; reason: string };
  CustomerForgotten: { reason?: string };
  /** Trigger definition stream (`trigger-<workspace>-<triggerId>`): `definition` is a validated TriggerDefinition. */
  TriggerDefined: { triggerId: string; version: number; definition: Record<string, unknown>; policyOverride?: PolicyOverride };
  /** `policyOverride`: an admin forced a change the workspace policy refused (dry-run estimate over the limit). */
  TriggerEnabled: { triggerId: string; version: number; policyOverride?: PolicyOverride };
  TriggerDisabled: { triggerId: string; version: number };
  /** A customer's run through a trigger (customer stream): the step it entered (`step` is the step's address). */
  TriggerRunStepEntered: {
    triggerId: string;
    version: number;
    runId: string;
    step: string;
    kind: string;
    variant?: string;
    key?: string;
    shadow?: boolean;
  };
  TriggerRunExited: { triggerId: string; version: number; runId: string; reason: string; key?: string; shadow?: boolean };

  // ── shadow mode (#12): a version deciding live beside the enabled one, without sending (trigger stream / customer stream)
  TriggerShadowStarted: { triggerId: string; version: number; by?: string };
  TriggerShadowStopped: { triggerId: string; version: number; by?: string };
  /** What a shadow run's send would have been: scheduled (`suppressed` absent) or suppressed, with every guard's verdict. */
  MessageShadowed: {
    messageId: string;
    channel: string;
    triggerId: string;
    triggerVersion: number;
    runId: string;
    step: string;
    guards: GuardVerdict[];
    suppressed?: { reason: string; detail: string };
    notBefore?: string;
  };

  // ── segments (#12): definitions on `segment-<workspace>-<segmentId>`, membership on the customer's stream
  /** `definition`: a validated SegmentDefinition. */
  SegmentDefined: { segmentId: string; version: number; definition: Record<string, unknown>; by?: string };
  SegmentRemoved: { segmentId: string; version: number; by?: string };
  SegmentEntered: { segmentId: string; version: number };
  SegmentLeft: { segmentId: string; version: number; reason: string };
  /**
   * A segment's one-time backfill (segments/membership.ts), on the customer's stream: evaluate this customer against the
   * segment (its version defined or removed before the customer's next event). Only the segment reactor's input.
   */
  SegmentEvaluationRequested: { segmentId: string; version: number };
  /**
   * A backfill's progress, on the segment's stream: the customers up to `after` (by id) were asked to be evaluated;
   * `done` once every one was (the next page continues from `after`).
   */
  SegmentBackfillProgressed: {
    segmentId: string;
    version: number;
    /** The change being backfilled: a version defined (every customer is evaluated) or the segment removed (its members). */
    of: 'SegmentDefined' | 'SegmentRemoved';
    after: string;
    customers: number;
    done: boolean;
  };

  // ── broadcasts (#12): on `broadcast-<workspace>-<broadcastId>` and the members' customer streams
  /**
   * A one-off send to a segment's members (see broadcasts/broadcast.ts): at `at` (an instant; now when neither is
   * given), or at the local wall-clock time `localTime` (`2026-12-10T09:00`) in each member's time zone. `startAt`: when
   * the fan-out over the members begins (`at`, or the earliest instant `localTime` occurs in any zone). Its messages go
   * through the trigger guards (`checkGuards`) with `guards`; `send.body`/`subject` are Liquid, as a trigger send's.
   */
  BroadcastScheduled: {
    broadcastId: string;
    segmentId: string;
    send: { channel: string; subject?: string; body: string; topic?: string };
    at?: string;
    localTime?: string;
    guards?: {
      frequencyCaps?: Array<{ max: number; per: string; scope: 'customer' | 'channel' }>;
      /** Unset: the workspace's default quiet hours when the message is decided; `none`: no quiet hours. */
      quietHours?: { start: string; end: string } | 'none';
    };
    startAt: string;
    by?: string;
  };
  /**
   * The fan-out reached the members up to `after` (customer ids in order): counts so far (members reached, messages
   * scheduled, suppressed by reason, local-time timers set, members skipped), so a restart resumes here.
   */
  BroadcastProgressed: { broadcastId: string; after: string; counts: EventDataByType['BroadcastCompleted']['counts'] };
  /** Every member was reached (a decision, or a local-time timer): the fan-out's counts. */
  BroadcastCompleted: {
    broadcastId: string;
    counts: {
      targeted: number;
      scheduled: number;
      suppressed: Record<string, number>;
      timers: number;
      /** In the read model's members but not in the segment by their stream (left meanwhile): not targeted. */
      skipped: number;
    };
  };
  /** No more messages: the fan-out stops, pending local-time timers end in MessageSuppressed `broadcast-cancelled`. */
  BroadcastCancelled: { broadcastId: string; by?: string };

  // ── identity merge (#12): the claim on `identity-<workspace>-<previousId>`, the closing event on the merged id's stream
  /**
   * `previousId` is merged into `userId` (the claim, first event of the previous id's identity stream; see identity.ts).
   * `merged`: the id and source of the IdentitiesMerged it records on the user's stream (ingestion's and the merge's are one).
   */
  IdentityMergeStarted: { previousId: string; userId: string; merged?: { eventId: string; source: string } };
  /** The merge copied the previous id's stream up to `copiedUpTo` (a revision, decimal string): the next batch starts after it. */
  IdentityMergeProgressed: { previousId: string; userId: string; copiedUpTo: string };
  /** The previous id's stream is closed at `closedAt` (the CustomerMergedInto's revision): later events there are forwarded. */
  IdentityMergeCompleted: { previousId: string; userId: string; closedAt: string };
  /** On a target's identity stream: `previousId` was merged into it (what forgetting the user forgets too). */
  IdentityAliasAdded: { previousId: string; userId: string };
  /** The closing event of a merged id's stream: its history was copied to `userId`'s stream; what comes later goes there. */
  CustomerMergedInto: { userId: string };

  // ── previews and test sends (#12)

  /** Dead letters (`deadletters-<workspace>` stream, see dead-letters.ts). */
  EventQuarantined: EventQuarantinedData;
  DeadLetterRetryRequested: DeadLetterRetryRequestedData;
  DeadLetterResolved: DeadLetterResolvedData;
}

/** A workspace policy refusal an admin overrode (`force=true`): the limit, the estimate that exceeded it, who forced it. */
export interface PolicyOverride {
  policy: 'maxDailyMessagesOnEnable';
  limit: number;
  estimate: number;
  by: string;
}

/** One guard a trigger send checked: consent, a frequency cap, priority, quiet hours. */
export interface GuardVerdict {
  guard: string;
  verdict: 'passed' | 'suppressed' | 'deferred';
  detail: string;
}

export type EventType = keyof EventDataByType;
export type TypedEvent<T extends EventType = EventType> = { [K in T]: JourneyEvent<K, EventDataByType[K]> }[T];

/** Events that represent activity by the customer (used by stage and inactivity rules). */
export const ACTIVITY_TYPES: ReadonlySet<string> = new Set([
  'CustomerIdentified',
  'InteractionRecorded',
  'PageViewed',
  'AccountLinked',
  'CustomerReplied',
]);

/** What a message's lifecycle events record: the customer's message counters, the timeline's verbs, the messages read model. */
export type MessageStatus = 'scheduled' | 'sent' | 'delivered' | 'failed' | 'suppressed' | 'opened' | 'clicked';
export const MESSAGE_STATUS: ReadonlyMap<string, MessageStatus> = new Map([
  ['MessageScheduled', 'scheduled'],
  ['MessageSent', 'sent'],
  ['MessageDelivered', 'delivered'],
  ['MessageFailed', 'failed'],
  ['MessageSuppressed', 'suppressed'],
  ['MessageOpened', 'opened'],
  ['MessageClicked', 'clicked'],
] satisfies Array<[EventType, MessageStatus]>);

/**
 * The workspace part of a composite id (stream ids, Kafka keys): `%`, `-` and `:` percent-encoded, so the part ends
 * unambiguously at the next separator. `acme`'s customer `eu-bob` (`customer-acme-eu-bob`) and `acme-eu`'s customer
 * `bob` (`customer-acme%2Deu-bob`) are different streams, and the prefix `customer-acme-` takes in no other workspace.
 * A workspace id made only of other characters is unchanged, so existing streams keep their names.
 */
export function escapeWorkspaceId(workspaceId: string): string {
  return workspaceId.replace(/[%:-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `customer-<workspace>-<customerId>`, the workspace escaped (`escapeWorkspaceId`); the customer id is the rest. */
export function customerStreamId(workspaceId: string, customerId: string): string {
  return `customer-${escapeWorkspaceId(workspaceId)}-${customerId}`;
}

/** `trigger-<workspace>-<triggerId>`, the workspace escaped (`escapeWorkspaceId`); the trigger id is the rest. */
export function triggerStreamId(workspaceId: string, triggerId: string): string {
  return `trigger-${escapeWorkspaceId(workspaceId)}-${triggerId}`;
}

/** `segment-<workspace>-<segmentId>`, the workspace escaped. */
export function segmentStreamId(workspaceId: string, segmentId: string): string {
  return `segment-${escapeWorkspaceId(workspaceId)}-${segmentId}`;
}

/** `broadcast-<workspace>-<broadcastId>`, the workspace escaped. */
export function broadcastStreamId(workspaceId: string, broadcastId: string): string {
  return `broadcast-${escapeWorkspaceId(workspaceId)}-${broadcastId}`;
}

/**
 * The event as the typed union, for `switch (e.type)` to narrow its data. Events of other types (API keys, ...) fall
 * to the switch's `default`. Events read from the store are at their type's current schema (upcast).
 */
export function typed(event: JourneyEvent): TypedEvent {
  return event as TypedEvent;
}

export function isEventOfType<T extends EventType>(e: JourneyEvent, type: T): e is JourneyEvent<T, EventDataByType[T]> {
  return e.type === type;
}
