import { eventTime, isConversationEvent, type EventDataByType, type RecordedEvent, type SlaTarget } from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

/** `conversation_facts`: one document per conversation, the facts the conversation analytics are computed from. */
export const CONVERSATION_FACTS = 'conversation_facts';
/** `conversation_contacts`: per customer, its resolutions and whether the customer wrote again within 7 days. */
export const CONVERSATION_CONTACTS = 'conversation_contacts';
/** `conversation_messages`: per agent reply (its messageId), the customer and conversation (explain looks it up). */
export const CONVERSATION_MESSAGES = 'conversation_messages';

/** `task_facts`: one document per CSM task: opened, assigned, closed, its SLA targets and breaches. */
export const TASK_FACTS = 'task_facts';

/** A customer writing again this soon after a resolution is a repeat contact. */
export const REPEAT_CONTACT_WINDOW_MS = 7 * 24 * 3_600_000;

const docId = (...parts: string[]) => parts.map((p) => encodeURIComponent(p)).join('/');
export const conversationFactId = (workspaceId: string, customerId: string, conversationId: string) =>
  docId(workspaceId, customerId, conversationId);
export const conversationContactsId = (workspaceId: string, customerId: string) => docId(workspaceId, customerId);
export const conversationMessageId = (workspaceId: string, messageId: string) => docId(workspaceId, messageId);
export const taskFactId = (workspaceId: string, customerId: string, taskId: string) => docId(workspaceId, customerId, taskId);

/** The facts of one CSM task (SLA attainment of tasks). */
export interface TaskFactDoc {
  workspaceId: string;
  customerId: string;
  taskId: string;
  /** The team of its SLA (the timer's or the breach's), '' without one. */
  team: string;
  priority: string;
  assignee: string;
  openedAt: string;
  /** The first assignment to a member (the task's first response). */
  assignedAt: string | null;
  closedAt: string | null;
  slaTargets: SlaTarget[];
  slaBreaches: SlaTarget[];
}

const TASK_TYPES = new Set(['CsmTaskOpened', 'CsmTaskAssigned', 'CsmTaskClosed']);

/** The task an event is about (task events, SLA breaches and SLA timers of tasks). */
function taskOf(e: RecordedEvent): string | undefined {
  const d = e.data as Record<string, unknown>;
  if (TASK_TYPES.has(e.type)) return typeof d.taskId === 'string' ? d.taskId : undefined;
  if (e.type === 'SlaBreached') return d.subject === 'task' && typeof d.id === 'string' ? d.id : undefined;
  if (e.type === 'TimerScheduled' && d.purpose === 'sla') {
    const p = (d.payload ?? {}) as Record<string, unknown>;
    return p.subject === 'task' && typeof p.id === 'string' ? p.id : undefined;
  }
  return undefined;
}

function evolveTaskFact(t: TaskFactDoc, e: RecordedEvent, at: string): TaskFactDoc {
  switch (e.type) {
    case 'CsmTaskOpened': {
      const d = e.data as EventDataByType['CsmTaskOpened'];
      return { ...t, openedAt: at, priority: d.priority, assignee: d.owner ?? t.assignee, assignedAt: d.owner ? at : t.assignedAt };
    }
    case 'CsmTaskAssigned': {
      const d = e.data as EventDataByType['CsmTaskAssigned'];
      return { ...t, assignee: d.assignee, assignedAt: t.assignedAt ?? at };
    }
    case 'CsmTaskClosed':
      return { ...t, closedAt: t.closedAt ?? at };
    case 'SlaBreached': {
      const d = e.data as EventDataByType['SlaBreached'];
      return { ...t, team: d.team ?? t.team, slaBreaches: t.slaBreaches.includes(d.target) ? t.slaBreaches : [...t.slaBreaches, d.target] };
    }
    case 'TimerScheduled': {
      const p = ((e.data as EventDataByType['TimerScheduled']).payload ?? {}) as { target: SlaTarget; team?: string };
      return { ...t, team: p.team ?? t.team, slaTargets: t.slaTargets.includes(p.target) ? t.slaTargets : [...t.slaTargets, p.target] };
    }
    default:
      return t;
  }
}

/**
 * The facts of one conversation. Times are ISO 8601 (event time), durations wall-clock seconds from `startedAt`.
 * Empty strings: none (no team, no assignee, ...); null: not happened (yet).
 */
export interface ConversationFactDoc {
  workspaceId: string;
  customerId: string;
  conversationId: string;
  channel: string;
  /** The team and priority it has now (the last assignment). */
  team: string;
  priority: string;
  /** Who holds it now ('' nobody). */
  assignee: string;
  startedAt: string;
  /** The member who started it ('' the customer: an inbound message). */
  startedBy: string;
  firstResponseAt: string | null;
  firstResponseSeconds: number | null;
  /** Who held it when it was first answered ('' nobody: automation or an unassigned conversation). */
  assigneeAtFirstResponse: string;
  /** Who answered first: a member id, or '' for automation. */
  firstResponder: string;
  /** The last resolution, null while open (a reopen clears it). */
  resolvedAt: string | null;
  resolutionSeconds: number | null;
  assigneeAtResolution: string;
  /** 1 when the last resolution happened with no person involved (ConversationResolved while personInvolved was false). */
  automated: 0 | 1;
  resolutions: number;
  reopened: number;
  /** A person answered, noted, assigned or resolved (the conversation decider's `personInvolved`). */
  personInvolved: 0 | 1;
  csat: number | null;
  ratedAt: string | null;
  /** The SLA targets it had (an SLA timer was scheduled for them) and those breached. */
  slaTargets: SlaTarget[];
  slaBreaches: SlaTarget[];
  /** Event times of the customer's messages in it (engagement). */
  customerReplies: string[];
}

export interface ResolutionRecord {
  conversationId: string;
  at: string;
  /** When the customer wrote again within 7 days (reopened it by replying, or started a new conversation); null: not (yet). */
  repeatAt: string | null;
}

export interface ConversationContactsDoc {
  workspaceId: string;
  customerId: string;
  resolutions: ResolutionRecord[];
}

export interface ConversationMessageDoc {
  workspaceId: string;
  customerId: string;
  conversationId: string;
  messageId: string;
}

/** The conversation an event is about (conversation events, SLA breaches and SLA timers of conversations). */
function conversationOf(e: RecordedEvent): string | undefined {
  const d = e.data as Record<string, unknown>;
  if (isConversationEvent(e)) return typeof d.conversationId === 'string' ? d.conversationId : undefined;
  if (e.type === 'SlaBreached') return d.subject === 'conversation' && typeof d.id === 'string' ? d.id : undefined;
  if (e.type === 'TimerScheduled' && d.purpose === 'sla') {
    const p = (d.payload ?? {}) as Record<string, unknown>;
    return p.subject === 'conversation' && typeof p.id === 'string' ? p.id : undefined;
  }
  return undefined;
}

/** A message from the customer that counts as contacting again: a new conversation it started, or a reopen by its reply. */
function isContact(e: RecordedEvent): boolean {
  if (e.type === 'ConversationStarted') return (e.data as EventDataByType['ConversationStarted']).by === undefined;
  if (e.type === 'ConversationReopened') return (e.data as EventDataByType['ConversationReopened']).reason === 'customer-replied';
  return false;
}

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

function initialFact(e: RecordedEvent, conversationId: string, at: string): ConversationFactDoc {
  return {
    workspaceId: e.metadata.workspaceId,
    customerId: e.metadata.customerId,
    conversationId,
    channel: '',
    team: '',
    priority: 'normal',
    assignee: '',
    startedAt: at,
    startedBy: '',
    firstResponseAt: null,
    firstResponseSeconds: null,
    assigneeAtFirstResponse: '',
    firstResponder: '',
    resolvedAt: null,
    resolutionSeconds: null,
    assigneeAtResolution: '',
    automated: 0,
    resolutions: 0,
    reopened: 0,
    personInvolved: 0,
    csat: null,
    ratedAt: null,
    slaTargets: [],
    slaBreaches: [],
    customerReplies: [],
  };
}

/** The fact document after one event (pure; mirrors evolveConversation for what the analytics need). */
export function evolveFact(f: ConversationFactDoc, e: RecordedEvent, at: string): ConversationFactDoc {
  const person = (by: unknown): 0 | 1 => (f.personInvolved || by !== undefined ? 1 : 0);
  switch (e.type) {
    case 'ConversationStarted': {
      const d = e.data as EventDataByType['ConversationStarted'];
      return { ...f, channel: d.channel, startedAt: at, startedBy: d.by ?? '' };
    }
    case 'CustomerReplied': {
      const d = e.data as EventDataByType['CustomerReplied'];
      return { ...f, channel: f.channel || d.channel, customerReplies: [...f.customerReplies, at] };
    }
    case 'AgentReplied': {
      const d = e.data as EventDataByType['AgentReplied'];
      const first =
        f.firstResponseAt === null
          ? {
              firstResponseAt: at,
              firstResponseSeconds: seconds(f.startedAt, at),
              assigneeAtFirstResponse: f.assignee,
              firstResponder: d.by ?? '',
            }
          : {};
      return { ...f, ...first, personInvolved: person(d.by) };
    }
    case 'InternalNoteAdded':
      return { ...f, personInvolved: 1 };
    case 'ConversationAssigned': {
      const d = e.data as EventDataByType['ConversationAssigned'];
      return { ...f, team: d.team ?? f.team, priority: d.priority, assignee: d.assignee ?? '', personInvolved: person(d.by) };
    }
    case 'ConversationResolved': {
      const d = e.data as EventDataByType['ConversationResolved'];
      const involved = person(d.by);
      return {
        ...f,
        resolvedAt: at,
        resolutionSeconds: seconds(f.startedAt, at),
        assigneeAtResolution: f.assignee,
        automated: involved ? 0 : 1,
        resolutions: f.resolutions + 1,
        personInvolved: involved,
      };
    }
    case 'ConversationReopened':
      return f.resolvedAt === null
        ? f
        : { ...f, resolvedAt: null, resolutionSeconds: null, assigneeAtResolution: '', automated: 0, reopened: f.reopened + 1 };
    case 'SatisfactionRated': {
      const d = e.data as EventDataByType['SatisfactionRated'];
      return { ...f, csat: d.score, ratedAt: at };
    }
    case 'SlaBreached': {
      const d = e.data as EventDataByType['SlaBreached'];
      return f.slaBreaches.includes(d.target) ? f : { ...f, slaBreaches: [...f.slaBreaches, d.target] };
    }
    case 'TimerScheduled': {
      const target = ((e.data as EventDataByType['TimerScheduled']).payload ?? {}).target as SlaTarget;
      return f.slaTargets.includes(target) ? f : { ...f, slaTargets: [...f.slaTargets, target] };
    }
    default:
      return f;
  }
}

/** The customer's contacts after one event: resolutions recorded, and those a new contact within 7 days follows marked. */
function evolveContacts(c: ConversationContactsDoc, e: RecordedEvent, conversationId: string, at: string): ConversationContactsDoc {
  if (e.type === 'ConversationResolved') return { ...c, resolutions: [...c.resolutions, { conversationId, at, repeatAt: null }] };
  const now = Date.parse(at);
  return {
    ...c,
    resolutions: c.resolutions.map((r) =>
      r.repeatAt === null && now >= Date.parse(r.at) && now - Date.parse(r.at) <= REPEAT_CONTACT_WINDOW_MS ? { ...r, repeatAt: at } : r,
    ),
  };
}

const onCustomerStream = (e: RecordedEvent) => e.streamId.startsWith('customer-') && !!e.metadata.customerId;

/**
 * `conversation-analytics`: per conversation its facts (channel, team, priority, who held it at the first response and
 * at resolution, start, first response, resolution, reopens, whether a person was involved, CSAT, SLA targets and
 * breaches, the customer's reply times) and per customer its resolutions with the repeat contacts that followed them.
 * The figures of GET /v1/analytics/conversations are computed from these documents (`conversationFigures`).
 */
export const conversationAnalyticsProjection: Projection = {
  name: 'conversation-analytics',
  collections: [
    {
      name: CONVERSATION_FACTS,
      indexes: [
        ['workspaceId', 'startedAt'],
        ['workspaceId', 'team'],
      ],
    },
    { name: CONVERSATION_CONTACTS, indexes: [['workspaceId']] },
    { name: CONVERSATION_MESSAGES, indexes: [] },
    { name: TASK_FACTS, indexes: [['workspaceId']] },
  ],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const refs = new Map<string, DocRef>();
    const add = (collection: string, id: string) => refs.set(`${collection}/${id}`, { collection, id });
    for (const e of events) {
      const taskId = onCustomerStream(e) ? taskOf(e) : undefined;
      if (taskId !== undefined) add(TASK_FACTS, taskFactId(e.metadata.workspaceId, e.metadata.customerId, taskId));
      const conversationId = onCustomerStream(e) ? conversationOf(e) : undefined;
      if (conversationId === undefined) continue;
      const { workspaceId: ws, customerId } = e.metadata;
      add(CONVERSATION_FACTS, conversationFactId(ws, customerId, conversationId));
      if (e.type === 'ConversationResolved' || isContact(e)) add(CONVERSATION_CONTACTS, conversationContactsId(ws, customerId));
    }
    return [...refs.values()];
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const taskId = onCustomerStream(e) ? taskOf(e) : undefined;
      if (taskId !== undefined) {
        const { workspaceId: ws, customerId } = e.metadata;
        const at = new Date(eventTime(e)).toISOString();
        batch.update<TaskFactDoc>(
          TASK_FACTS,
          taskFactId(ws, customerId, taskId),
          e.position,
          () => ({
            workspaceId: ws,
            customerId,
            taskId,
            team: '',
            priority: 'normal',
            assignee: '',
            openedAt: at,
            assignedAt: null,
            closedAt: null,
            slaTargets: [],
            slaBreaches: [],
          }),
          (t) => evolveTaskFact(t, e, at),
        );
      }
      const conversationId = onCustomerStream(e) ? conversationOf(e) : undefined;
      if (conversationId === undefined) continue;
      const { workspaceId: ws, customerId } = e.metadata;
      const at = new Date(eventTime(e)).toISOString();
      batch.update<ConversationFactDoc>(
        CONVERSATION_FACTS,
        conversationFactId(ws, customerId, conversationId),
        e.position,
        () => initialFact(e, conversationId, at),
        (f) => evolveFact(f, e, at),
      );
      if (e.type === 'ConversationResolved' || isContact(e))
        batch.update<ConversationContactsDoc>(
          CONVERSATION_CONTACTS,
          conversationContactsId(ws, customerId),
          e.position,
          () => ({ workspaceId: ws, customerId, resolutions: [] }),
          (c) => evolveContacts(c, e, conversationId, at),
        );
      if (e.type === 'AgentReplied') {
        const { messageId } = e.data as EventDataByType['AgentReplied'];
        const doc: ConversationMessageDoc = { workspaceId: ws, customerId, conversationId, messageId };
        batch.update<ConversationMessageDoc>(
          CONVERSATION_MESSAGES,
          conversationMessageId(ws, messageId),
          e.position,
          () => doc,
          () => doc,
        );
      }
    }
    return batch.puts();
  },
};
