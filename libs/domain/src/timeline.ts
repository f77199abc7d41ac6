import { MESSAGE_STATUS, typed, type JourneyEvent, type RecordedEvent } from './events';
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
 * Timers are internal mechanics and are not shown.
 */
export type TimelineKind =
  'identify' | 'traits' | 'interaction' | 'page' | 'account' | 'alias' | 'stage' | 'trigger' | 'message' | 'task' | 'forgotten';

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
  for (const e of eventsAsOf(events, options.asOf)) {
    const described = describe(e, redact);
    if (!described) continue;
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

function describe(event: JourneyEvent, redact: boolean): Described | undefined {
  const e = typed(event);
  const personal = <T>(value: T): T | undefined => (redact ? undefined : value);
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
    case 'TriggerMatched': {
      const d = e.data;
      return { kind: 'trigger', summary: `Trigger ${d.triggerId} v${d.version} matched`, details: { ...d } };
    }
    case 'TriggerRunExited': {
      // a run cut off by the causal depth limit (see MAX_CAUSAL_DEPTH); other exits are bookkeeping
      const d = e.data;
      if (d.reason !== 'causal-depth') return undefined;
      return {
        kind: 'trigger',
        summary: `Trigger ${d.triggerId} v${d.version} cut off: causal-depth (too many triggers in a row caused this)`,
        details: { ...d },
      };
    }
    case 'CsmTaskOpened': {
      const d = e.data;
      return { kind: 'task', summary: `CSM task opened: ${d.title}${d.owner ? ` (owner ${d.owner})` : ''}`, details: { ...d } };
    }
    case 'CsmTaskClosed': {
      const d = e.data;
      return { kind: 'task', summary: `CSM task closed: ${d.resolution}`, details: { ...d } };
    }
    case 'MessageResendRequested': {
      const d = e.data;
      return { kind: 'message', summary: `Message ${d.messageId} re-send ${d.resend} requested via ${d.channel}`, details: { ...d } };
    }
    case 'CustomerForgotten':
      return { kind: 'forgotten', summary: 'Customer forgotten: personal data erased', details: {} };
    default: {
      const verb = MESSAGE_STATUS.get(e.type);
      if (!verb) return undefined;
      const d = e.data as Record<string, unknown>;
      const channel = typeof d.channel === 'string' ? ` via ${d.channel}` : '';
      const why = e.type === 'MessageSuppressed' ? `: ${String(d.reason)}` : e.type === 'MessageFailed' ? `: ${String(d.error)}` : '';
      // Message bodies and addresses (template, content, to) may be personal: the timeline shows what identifies the message.
      const { template: _template, content: _content, to: _to, ...details } = d;
      return { kind: 'message', summary: `Message ${String(d.messageId)} ${verb}${channel}${why}`, details };
    }
  }
}

function clean(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}
