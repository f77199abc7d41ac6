/**
 * Merging identities (#12), pure: an `alias` (previousId → userId), or an `identify` naming a userId and a known
 * anonymousId, folds the previous id's history into the user, so triggers and segments see one customer.
 *
 * The protocol, all of it events (README "Identity merge"):
 * 1. The claim: `IdentityMergeStarted { previousId, userId }`, the first event of `identity-<ws>-<previousId>`, appended
 *    with `no_stream` (so of two concurrent merges of one id exactly one wins), and `IdentityAliasAdded` on the user's
 *    identity stream (its first event marks it as a merge target). From the claim on, ingestion routes calls under the
 *    previous id to the user (`metadata.routedFrom`).
 * 2. The copy, in batches of `MERGE_BATCH` (`decideMergeStep`), by the merge reactor: an `IdentitiesMerged` on the
 *    user's stream, then copies of the previous id's customer facts (`COPIED_TYPES`, not the engine's decisions) in
 *    their order, with their event times (`metadata.mergedFrom`, `causationId` = the original, ids derived from the
 *    original ids), and an `IdentityMergeProgressed` after each full batch, which the reactor handles in turn: a crash
 *    resumes after the last batch recorded, and a batch done again writes the same ids (skipped).
 * 3. The close: `CustomerMergedInto { userId }` on the previous id's stream, expected at the last revision copied (an
 *    event that slipped in meanwhile makes it fail: copied, then closed again), and `IdentityMergeCompleted`. A
 *    customer fact that still lands on a closed stream is forwarded to the user (`forwardedEvent`, `routedFrom`).
 *
 * Copies are history: every fold sees them (counts, windows, lastSeen; traits only where the user has none), no
 * decider decides on them (`isMergedCopy`), so a merge never sends for old history or starts a run it would not have
 * started live. Chains are refused: a merge target cannot be merged into another id, and a merge into an id that was
 * itself merged goes to the one it was merged into (`decideAlias`), so every id resolves in one step.
 */
import { escapeWorkspaceId, typed, type JourneyEvent, type RecordedEvent } from './events';
import { envelope } from './envelope';
import { deterministicId } from './ids';

/** `metadata.source` of the events the merge writes. */
export const MERGE_SOURCE = 'identity';
/** Events of the previous id's stream read and copied per step. */
export const MERGE_BATCH = 500;

/** `identity-<workspace>-<id>`: an id's role in merges (its first event: IdentityMergeStarted or IdentityAliasAdded). */
export function identityStreamId(workspaceId: string, id: string): string {
  return `identity-${escapeWorkspaceId(workspaceId)}-${id}`;
}

/** The customer's own facts: what a merge copies, and what is forwarded from a closed stream. */
export const COPIED_TYPES: ReadonlySet<string> = new Set([
  'CustomerIdentified',
  'TraitsUpdated',
  'InteractionRecorded',
  'PageViewed',
  'AccountLinked',
]);

/** A copy of a merged id's history (folded, never decided on). */
export function isMergedCopy(event: JourneyEvent): boolean {
  return event.metadata.mergedFrom !== undefined;
}

/** An event the merge copies: a customer fact as ingested, not one the engine decided (`reactor…`) and not a copy. */
export function isCopyable(event: JourneyEvent): boolean {
  const source = event.metadata.source;
  return COPIED_TYPES.has(event.type) && !source.startsWith('reactor') && source !== MERGE_SOURCE && !isMergedCopy(event);
}

/** What an id is in merges, from the first event of its identity stream. */
export type IdentityRole =
  | { kind: 'none' }
  /** Merged into `userId` (claimed): its calls go there. */
  | { kind: 'alias'; userId: string }
  /** Others were merged into it: it cannot be merged into another id. */
  | { kind: 'target' };

export function identityRole(first: JourneyEvent | undefined): IdentityRole {
  if (!first) return { kind: 'none' };
  const e = typed(first);
  if (e.type === 'IdentityMergeStarted') return { kind: 'alias', userId: e.data.userId };
  return { kind: 'target' };
}

export type AliasDecision =
  | { kind: 'merge'; previousId: string; userId: string }
  /** Already one customer: nothing to record. */
  | { kind: 'noop'; userId: string }
  | { kind: 'refused'; message: string };

/**
 * Whether `previousId` may be merged into `userId`, given their roles: into the id `userId` was merged into, if any
 * (one step: a target is never an alias); refused when they are the same id, when `previousId` is already merged
 * into another customer, or when others were merged into `previousId` (a chain).
 */
export function decideAlias(previousId: string, userId: string, previous: IdentityRole, user: IdentityRole): AliasDecision {
  if (previousId === userId) return { kind: 'refused', message: `previousId and userId are the same ("${userId}"): nothing to merge` };
  const root = user.kind === 'alias' ? user.userId : userId;
  if (previousId === root) return { kind: 'noop', userId: root };
  if (previous.kind === 'alias') {
    if (previous.userId === root) return { kind: 'noop', userId: root };
    return {
      kind: 'refused',
      message: `previousId "${previousId}" is already merged into "${previous.userId}": it cannot be merged into "${root}" too`,
    };
  }
  if (previous.kind === 'target')
    return {
      kind: 'refused',
      message: `previousId "${previousId}" has other ids merged into it: merging it into "${root}" would make a chain (merge those ids into "${root}" instead)`,
    };
  return { kind: 'merge', previousId, userId: root };
}

/** The claim: the first event of the previous id's identity stream. */
export type Claim = JourneyEvent<
  'IdentityMergeStarted',
  { previousId: string; userId: string; merged?: { eventId: string; source: string } }
>;

/** When and by which call a merge was asked for: the claim's times, and the IdentitiesMerged's id and source. */
export interface ClaimFields {
  occurredAt: string;
  recordedAt: string;
  correlationId?: string;
  /** The IdentitiesMerged's id (an alias call's: from its messageId); default: derived from the two ids. */
  eventId?: string;
  /** The IdentitiesMerged's source (`http`, ...); default MERGE_SOURCE. */
  source?: string;
}

/** The claim's events: the previous id's identity stream (expected `no_stream`) and the target's. */
export function claimEvents(
  workspaceId: string,
  previousId: string,
  userId: string,
  at: ClaimFields,
): { started: Claim; added: JourneyEvent } {
  const base = { workspaceId, occurredAt: at.occurredAt, recordedAt: at.recordedAt, source: MERGE_SOURCE };
  const merged = {
    eventId: at.eventId ?? deterministicId('merge-merged', workspaceId, previousId, userId),
    source: at.source ?? MERGE_SOURCE,
  };
  const started = envelope({
    ...base,
    id: deterministicId('merge-claim', workspaceId, previousId, userId),
    type: 'IdentityMergeStarted' as const,
    data: { previousId, userId, merged },
    customerId: previousId,
    ...(at.correlationId !== undefined ? { correlationId: at.correlationId } : {}),
  });
  const added = envelope({
    ...base,
    id: deterministicId('merge-target', workspaceId, previousId, userId),
    type: 'IdentityAliasAdded',
    data: { previousId, userId },
    customerId: userId,
    cause: started,
  });
  return { started, added };
}

/**
 * The `IdentitiesMerged` on the user's stream before the copies, one per claim: ingestion records it with the call,
 * and the merge's first step again (the same event: whichever is stored first, the other is skipped by its id).
 */
export function mergedEvent(claim: Claim): JourneyEvent {
  const { previousId, userId } = claim.data;
  const m = claim.metadata;
  return envelope({
    id: claim.data.merged?.eventId ?? deterministicId('merge-merged', m.workspaceId, previousId, userId),
    type: 'IdentitiesMerged',
    data: { previousId, userId },
    workspaceId: m.workspaceId,
    customerId: userId,
    occurredAt: m.occurredAt,
    recordedAt: m.recordedAt,
    source: claim.data.merged?.source ?? MERGE_SOURCE,
    ...(m.correlationId !== undefined ? { correlationId: m.correlationId } : {}),
  });
}

/** A copy of `event` (of the merged id's stream) on `userId`'s stream: same type, data and event time. */
export function mergeCopy(event: JourneyEvent, userId: string, now: Date): JourneyEvent {
  return relocated(event, userId, now, deterministicId('merge-copy', event.metadata.workspaceId, userId, event.id), 'mergedFrom');
}

/** A customer fact that landed on a closed stream, recorded on the user's stream (live: decided on there). */
export function forwardedEvent(event: JourneyEvent, userId: string, now: Date): JourneyEvent {
  return relocated(event, userId, now, deterministicId('merge-forward', event.metadata.workspaceId, userId, event.id), 'routedFrom');
}

function relocated(event: JourneyEvent, userId: string, now: Date, id: string, mark: 'mergedFrom' | 'routedFrom'): JourneyEvent {
  const m = event.metadata;
  return {
    id,
    type: event.type,
    data: event.data,
    metadata: {
      workspaceId: m.workspaceId,
      customerId: userId,
      occurredAt: m.occurredAt,
      recordedAt: now.toISOString(),
      causationId: event.id,
      correlationId: m.correlationId ?? event.id,
      [mark]: m.customerId,
      source: m.source,
      schemaVersion: m.schemaVersion,
    },
  };
}

/** An event ingested under a merged id, recorded on the user's stream instead (same id: a resend stays a no-op). */
export function routedEvent(event: JourneyEvent, userId: string): JourneyEvent {
  return { ...event, metadata: { ...event.metadata, customerId: userId, routedFrom: event.metadata.customerId } };
}

/** What one merge step does after reading a page of the previous id's stream. */
export interface MergeStep {
  /** Appended to the user's stream first (the IdentitiesMerged on the first step, then copies). */
  toUser: JourneyEvent[];
  next:
    | { kind: 'progress'; event: JourneyEvent }
    /** Append `event` to the previous id's stream expecting its last revision to be `expectedRevision` (-1n: none). */
    | { kind: 'close'; event: JourneyEvent; expectedRevision: bigint }
    /** The stream was closed already (a step done again): only the completion is (re)recorded. */
    | { kind: 'closed'; closedAt: bigint };
}

/**
 * One step of a merge: `from` is the first revision of the previous id's stream not yet copied, `page` its events from
 * there (at most `batchSize`), `cause` the claim or the last progress event. A full page is copied and recorded as
 * progress; a shorter one is copied and closes the stream after its last event; a page holding the closing event
 * (a step done again) copies what came before it and reports the stream closed.
 */
export function decideMergeStep(
  claim: Claim,
  cause: JourneyEvent,
  from: bigint,
  page: readonly RecordedEvent[],
  now: Date,
  batchSize = MERGE_BATCH,
): MergeStep {
  const { previousId, userId } = claim.data;
  const workspaceId = claim.metadata.workspaceId;
  const toUser: JourneyEvent[] = from === 0n ? [mergedEvent(claim)] : [];
  const closing = page.findIndex((e) => e.type === 'CustomerMergedInto');
  const copied = closing >= 0 ? page.slice(0, closing) : page;
  for (const e of copied) if (isCopyable(e)) toUser.push(mergeCopy(e, userId, now));
  if (closing >= 0) return { toUser, next: { kind: 'closed', closedAt: page[closing].revision } };
  const last = page.length > 0 ? page[page.length - 1].revision : from - 1n;
  const base = { workspaceId, occurredAt: now.toISOString(), recordedAt: now.toISOString(), source: MERGE_SOURCE, cause };
  if (page.length >= batchSize)
    return {
      toUser,
      next: {
        kind: 'progress',
        event: envelope({
          ...base,
          id: deterministicId('merge-progress', workspaceId, previousId, userId, last.toString()),
          type: 'IdentityMergeProgressed',
          data: { previousId, userId, copiedUpTo: last.toString() },
          customerId: previousId,
        }),
      },
    };
  return {
    toUser,
    next: {
      kind: 'close',
      expectedRevision: last,
      event: envelope({
        ...base,
        id: deterministicId('merge-close', workspaceId, previousId, userId),
        type: 'CustomerMergedInto',
        data: { userId },
        customerId: previousId,
      }),
    },
  };
}

/** The progress event recorded instead of a close that conflicted: copying goes on after `copiedUpTo`. */
export function progressEvent(claim: Claim, cause: JourneyEvent, copiedUpTo: bigint, now: Date) {
  const { previousId, userId } = claim.data;
  const workspaceId = claim.metadata.workspaceId;
  return envelope({
    id: deterministicId('merge-progress', workspaceId, previousId, userId, copiedUpTo.toString()),
    type: 'IdentityMergeProgressed',
    data: { previousId, userId, copiedUpTo: copiedUpTo.toString() },
    workspaceId,
    customerId: previousId,
    occurredAt: now.toISOString(),
    recordedAt: now.toISOString(),
    source: MERGE_SOURCE,
    cause,
  });
}

/** The completion, on the previous id's identity stream, once its stream is closed at `closedAt`. */
export function completedEvent(workspaceId: string, previousId: string, userId: string, closedAt: bigint, cause: JourneyEvent, now: Date) {
  return envelope({
    id: deterministicId('merge-completed', workspaceId, previousId, userId),
    type: 'IdentityMergeCompleted',
    data: { previousId, userId, closedAt: closedAt.toString() },
    workspaceId,
    customerId: previousId,
    occurredAt: now.toISOString(),
    recordedAt: now.toISOString(),
    source: MERGE_SOURCE,
    cause,
  });
}

/** Forgetting one id of a merged customer forgets the others (`id`'s stream), once per forget event. */
export function forgottenWith(forget: JourneyEvent, id: string, now: Date): JourneyEvent {
  const workspaceId = forget.metadata.workspaceId;
  return envelope({
    id: deterministicId('merge-forget', workspaceId, id, forget.id),
    type: 'CustomerForgotten',
    data: { reason: String(forget.data.reason ?? 'forgotten with a merged identity') },
    workspaceId,
    customerId: id,
    occurredAt: forget.metadata.occurredAt,
    recordedAt: now.toISOString(),
    source: MERGE_SOURCE,
    cause: forget,
  });
}
