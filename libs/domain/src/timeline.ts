import { MESSAGE_STATUS, typed, type JourneyEvent, type RecordedEvent } from './events';
import { isTestMessageId } from './triggers/preview';
import { eventTime } from './event-time';

/**
 * A customer's journey timeline, built from the events of its stream. Pure.
 *
 * Order: by event time (`occurredAt`), then by global position, so a late event (sent by a client after newer ones)
 * takes its place in the journey where it happened, not where it was recorded.
 *
 * `asOf`: the timeline as the engine knew it at that moment, i.e. only the events it had recorded by then
 * (`metadata.recordedAt <= asOf`). An event that happened before `asOf` but arrived later is NOT shown: that is what
 * makes "why did the engine do X at time T" answerable. Personal data is redacted when the customer has been forgotten,
 * whatever the `asOf` (forgetting is retroactive).
 *
 * Timers are internal mechanics and are not shown. Conversations are (`conversation`: what the customer wrote, the
 * replies of people and automation, internal notes, assignments, tags, snoozes, resolutions, reopens, ratings), and so
 * are missed service-level targets (`sla`). Message bodies, notes, rating comments and task outcomes are personal data
 * (redacted once the customer is forgotten, with the customer's name).
 */
export type TimelineKind =
  | 'identify'
  | 'traits'
  | 'interaction'
  | 'page'
  | 'account'
  | 'alias'
  | 'stage'
  | 'trigger'
  | 'message'
  | 'task'
  | 'conversation'
  | 'sla'
  | 'segment'
  | 'forgotten';

export interface TimelineEntry {
  eventId: string;
  /** Global position in the log, as a decimal string. */
  position: string;
  type: string;
  kind: TimelineKind;
  occurredAt: string;
  recordedAt: string;
  summary: string;
  details: Record<string, unknown>;
}

export interface TimelineOptions {
  asOf?: Date;
  /** Names of the workspace's members by member id (from its teams stream): "Ann (ann) replied". */
  members?: ReadonlyMap<string, string>;
}

/** Longest excerpt of a message or note a summary quotes (characters). */
export const EXCERPT_LENGTH = 80;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH - 1)}…` : flat;
}

/** The customer's name from its traits (`name`, else `first_name`/`firstName` and `last_name`/`lastName`). */
function nameOf(traits: Record<string, unknown>): string | undefined {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const first = text(traits.first_name) ?? text(traits.firstName);
  const last = text(traits.last_name) ?? text(traits.lastName);
  return text(traits.name) ?? (first ? [first, last].filter(Boolean).join(' ') : undefined);
}

interface Names {
  customer: string;
  /** `Ann (ann)`, or the id when the name is not known; with `note`: `Ann (ann, least-loaded)` / `ann (least-loaded)`. */
  member(id: string, note?: string): string;
}

/** Events the engine had recorded at `asOf` (all of them without it). */
export function eventsAsOf<E extends JourneyEvent>(events: readonly E[], asOf?: Date): E[] {
  if (!asOf) return [...events];
  const limit = asOf.getTime();
  return events.filter((e) => Date.parse(e.metadata.recordedAt) <= limit);
}

export function buildTimeline(events: readonly RecordedEvent[], options: TimelineOptions = {}): TimelineEntry[] {
  const redact = events.some((e) => e.type === 'CustomerForgotten');
  const entries: Array<{ at: number; position: bigint; entry: TimelineEntry }> = [];
  const known = eventsAsOf(events, options.asOf);
  let customerName: string | undefined;
  for (const e of known)
    if (e.type === 'CustomerIdentified' || e.type === 'TraitsUpdated')
      customerName =
        e.metadata.mergedFrom !== undefined // a merged id's name only when the customer has none (#12)
          ? (customerName ?? nameOf((e.data.traits ?? {}) as Record<string, unknown>))
          : (nameOf((e.data.traits ?? {}) as Record<string, unknown>) ?? customerName);
  const names: Names = {
    customer: (!redact && customerName) || 'The customer',
    member: (id, note) => {
      const name = options.members?.get(id);
      const named = name !== undefined && name !== id;
      if (note === undefined) return named ? `${name} (${id})` : id;
      return named ? `${name} (${id}, ${note})` : `${id} (${note})`;
    },
  };
  for (const e of known) {
    const described = describe(e, redact, names);
    if (!described) continue;
    markMerged(e, described, redact);
    entries.push({
      at: eventTime(e),
      position: e.position,
      entry: {
        eventId: e.id,
        position: e.position.toString(),
        type: e.type,
        kind: described.kind,
        occurredAt: e.metadata.occurredAt,
        recordedAt: e.metadata.recordedAt,
        summary: described.summary,
        details: described.details,
      },
    });
  }
  entries.sort((a, b) => a.at - b.at || (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  return entries.map((x) => x.entry);
}

type Described = { kind: TimelineKind; summary: string; details: Record<string, unknown> };

/** Identity merge (#12): a copy of a merged id's history, or a call sent under a merged id, says so. */
function markMerged(e: JourneyEvent, described: Described, redact: boolean): void {
  const from = e.metadata.mergedFrom ?? e.metadata.routedFrom;
  if (from === undefined) return;
  const how = e.metadata.mergedFrom !== undefined ? 'merged from' : 'sent as';
  described.summary += redact ? ` (${how} a merged id)` : ` (${how} ${from})`;
  if (!redact) described.details = { ...described.details, [e.metadata.mergedFrom !== undefined ? 'mergedFrom' : 'routedFrom']: from };
}

function describe(event: JourneyEvent, redact: boolean, names: Names): Described | undefined {
  const e = typed(event);
  const personal = <T>(value: T): T | undefined => (redact ? undefined : value);
  /** `: "…"` quoting the start of a text, or nothing once the customer is forgotten. */
  const quote = (text: string | undefined) => (redact || text === undefined ? '' : `: ${excerpt(text)}`);
  const who = (by: string | undefined, otherwise: string) => (by !== undefined ? names.member(by) : otherwise);
  switch (e.type) {
    case 'CustomerIdentified': {
      const d = e.data;
      return {
        kind: 'identify',
        summary: 'Identified',
        details: clean({ userId: personal(d.userId), anonymousId: personal(d.anonymousId), traits: personal(d.traits) }),
      };
    }
    case 'TraitsUpdated': {
      const d = e.data;
      return {
        kind: 'traits',
        summary: `Traits updated: ${Object.keys(d.traits ?? {}).join(', ')}`,
        details: clean({ traits: personal(d.traits), by: d.by }),
      };
    }
    case 'InteractionRecorded': {
      const d = e.data;
      return {
        kind: 'interaction',
        summary: `Tracked "${d.event}"`,
        details: clean({ event: d.event, properties: personal(d.properties) }),
      };
    }
    case 'PageViewed': {
      const d = e.data;
      return {
        kind: 'page',
        summary: `Viewed ${d.kind}${d.name ? ` "${d.name}"` : ''}`,
        details: clean({ kind: d.kind, name: d.name, category: d.category, properties: personal(d.properties) }),
      };
    }
    case 'AccountLinked': {
      const d = e.data;
      return {
        kind: 'account',
        summary: `Linked to account ${d.groupId}`,
        details: clean({ groupId: d.groupId, traits: personal(d.traits) }),
      };
    }
    case 'IdentitiesMerged': {
      const d = e.data;
      return {
        kind: 'alias',
        summary: 'Identities merged',
        details: clean({ previousId: personal(d.previousId), userId: personal(d.userId) }),
      };
    }
    case 'StageChanged': {
      const d = e.data;
      return {
        kind: 'stage',
        summary: `Stage ${d.from ?? '(none)'} → ${d.to}: ${d.reason}`,
        details: { from: d.from, to: d.to, reason: d.reason },
      };
    }
    case 'SegmentEntered':
      return { kind: 'segment', summary: `Entered segment ${e.data.segmentId} (v${e.data.version})`, details: { ...e.data } };
    case 'SegmentLeft':
      return { kind: 'segment', summary: `Left segment ${e.data.segmentId}: ${e.data.reason}`, details: { ...e.data } };
    case 'TriggerMatched': {
      const d = e.data;
      return { kind: 'trigger', summary: `Trigger ${d.triggerId} v${d.version}${runNote(d)} matched`, details: { ...d } };
    }
    case 'TriggerRunExited': {
      // a run cut off by the causal depth limit (see MAX_CAUSAL_DEPTH); other exits are bookkeeping
      const d = e.data;
      if (d.reason !== 'causal-depth') return undefined;
      return {
        kind: 'trigger',
        summary: `Trigger ${d.triggerId} v${d.version}${runNote(d)} cut off: causal-depth (too many triggers in a row caused this)`,
        details: { ...d },
      };
    }
    case 'MessageShadowed': {
      // what a shadow run would have sent: nothing was
      const d = e.data;
      const verdict = d.suppressed ? `would have been suppressed: ${d.suppressed.reason}` : 'would have been sent';
      return {
        kind: 'message',
        summary: `Message ${d.messageId} via ${d.channel} ${verdict} (trigger ${d.triggerId} v${d.triggerVersion} in shadow: not sent)`,
        details: { ...d },
      };
    }
    case 'CsmTaskOpened': {
      const d = e.data;
      return { kind: 'task', summary: `CSM task opened: ${d.title}${d.owner ? ` (owner ${d.owner})` : ''}`, details: { ...d } };
    }
    case 'CsmTaskClosed': {
      const d = e.data;
      const outcome = d.outcome !== undefined && !redact ? `, outcome: ${excerpt(d.outcome)}` : '';
      const by = d.by !== undefined ? ` by ${names.member(d.by)}` : '';
      return {
        kind: 'task',
        summary: `CSM task closed: ${d.resolution}${outcome}${by}`,
        details: clean({ ...d, outcome: personal(d.outcome) }),
      };
    }
    case 'CsmTaskAssigned': {
      const d = e.data;
      const by = d.by !== undefined && d.by !== d.assignee ? ` by ${names.member(d.by)}` : '';
      return {
        kind: 'task',
        summary: `CSM task ${d.taskId} assigned to ${names.member(d.assignee, d.reason)}${by}`,
        details: { ...d },
      };
    }
    case 'ConversationStarted': {
      const d = e.data;
      const subject = d.subject !== undefined && !redact ? ` "${excerpt(d.subject)}"` : '';
      return {
        kind: 'conversation',
        summary: `Conversation${subject} started on ${d.channel} by ${who(d.by, names.customer)}`,
        details: clean({ ...d, subject: personal(d.subject) }),
      };
    }
    case 'CustomerReplied': {
      const d = e.data;
      return {
        kind: 'conversation',
        summary: `${names.customer} replied on ${d.channel}${quote(d.body)}`,
        details: clean({ ...d, body: personal(d.body), providerId: personal(d.providerId) }),
      };
    }
    case 'AgentReplied': {
      const d = e.data;
      const author = d.by !== undefined ? names.member(d.by) : `Automation${d.triggerId ? ` (trigger ${d.triggerId})` : ''}`;
      return {
        kind: 'conversation',
        summary: `${author} replied on ${d.channel}${quote(d.body)}`,
        details: clean({ ...d, body: personal(d.body) }),
      };
    }
    case 'InternalNoteAdded': {
      const d = e.data;
      return {
        kind: 'conversation',
        summary: `${names.member(d.by)} added an internal note${quote(d.body)}`,
        details: clean({ ...d, body: personal(d.body) }),
      };
    }
    case 'ConversationAssigned': {
      const d = e.data;
      const by = d.by !== undefined && d.by !== d.assignee ? ` by ${names.member(d.by)}` : '';
      const summary =
        d.assignee !== undefined
          ? `Assigned to ${names.member(d.assignee, d.reason)}${d.team !== undefined ? ` in ${d.team}` : ''}, ${d.priority}${by}`
          : `Handed off to ${d.team ?? 'no team'}, ${d.priority} (${d.reason === 'queued' ? 'queued: waiting for an available member' : d.reason})${by}`;
      return { kind: 'conversation', summary, details: { ...d } };
    }
    case 'ConversationTagged': {
      const d = e.data;
      return {
        kind: 'conversation',
        summary: `Tagged ${d.tags.join(', ')}${d.by !== undefined ? ` by ${names.member(d.by)}` : ''}`,
        details: { ...d },
      };
    }
    case 'ConversationSnoozed': {
      const d = e.data;
      return {
        kind: 'conversation',
        summary: `Snoozed until ${d.until}${d.by !== undefined ? ` by ${names.member(d.by)}` : ''}`,
        details: { ...d },
      };
    }
    case 'ConversationResolved': {
      const d = e.data;
      return { kind: 'conversation', summary: `Resolved by ${who(d.by, d.automated ? 'automation' : 'the engine')}`, details: { ...d } };
    }
    case 'ConversationReopened': {
      const d = e.data;
      const why =
        d.reason === 'customer-replied'
          ? `${names.customer === 'The customer' ? 'the customer' : names.customer} replied`
          : d.reason === 'snooze-ended'
            ? 'the snooze ended'
            : `by ${who(d.by, 'the engine')}`;
      return { kind: 'conversation', summary: `Reopened: ${why}`, details: { ...d } };
    }
    case 'SatisfactionRated': {
      const d = e.data;
      return {
        kind: 'conversation',
        summary: `${names.customer} rated the conversation ${d.score}/5${quote(d.comment)}`,
        details: clean({ ...d, comment: personal(d.comment) }),
      };
    }
    case 'SlaBreached': {
      const d = e.data;
      const where = [d.team, d.priority].filter(Boolean).join(', ');
      const holder = d.assignee !== undefined ? `, held by ${names.member(d.assignee)}` : '';
      return {
        kind: 'sla',
        summary: `SLA ${d.target} breached: ${d.subject} ${d.id} was due ${d.dueAt} (${where})${holder}`,
        details: { ...d },
      };
    }
    case 'MessageResendRequested': {
      const d = e.data;
      return { kind: 'message', summary: `Message ${d.messageId} re-send ${d.resend} requested via ${d.channel}`, details: { ...d } };
    }
    case 'CustomerForgotten':
      return { kind: 'forgotten', summary: 'Customer forgotten: personal data erased', details: {} };
    case 'CustomerMergedInto': {
      const d = e.data;
      return {
        kind: 'alias',
        summary: redact ? 'Merged into another customer' : `Merged into ${d.userId}: its history and later calls are there`,
        details: clean({ userId: personal(d.userId) }),
      };
    }
    default: {
      const verb = MESSAGE_STATUS.get(e.type);
      if (!verb) return undefined;
      const d = e.data as Record<string, unknown>;
      const channel = typeof d.channel === 'string' ? ` via ${d.channel}` : '';
      const why = e.type === 'MessageSuppressed' ? `: ${String(d.reason)}` : e.type === 'MessageFailed' ? `: ${String(d.error)}` : '';
      // Message bodies and addresses (template, content, to) may be personal: the timeline shows what identifies the message.
      const { template: _template, content: _content, to: _to, ...details } = d;
      const what = isTestMessageId(d.messageId) ? 'Test message' : 'Message';
      return { kind: 'message', summary: `${what} ${String(d.messageId)} ${verb}${channel}${why}`, details };
    }
  }
}

/** How a run is named beside its trigger: ` (key cart-1)`, ` (shadow)`, ` (key cart-1, shadow)`, or nothing. */
function runNote(d: { key?: string; shadow?: boolean }): string {
  const notes = [...(d.key !== undefined ? [`key ${d.key}`] : []), ...(d.shadow ? ['shadow'] : [])];
  return notes.length ? ` (${notes.join(', ')})` : '';
}

function clean(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}
