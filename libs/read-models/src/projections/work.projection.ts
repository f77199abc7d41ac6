import {
  evolveConversation,
  initialConversationState,
  isConversationEvent,
  type ConversationState,
  type EventDataByType,
  type RecordedEvent,
} from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

/** `work`: one document per conversation and per CSM task (open or not), the CSM's work queue (GET /v1/work). */
export const WORK = 'work';
/**
 * `work_customers`: per customer, the state every work document of the customer is derived from (the conversations
 * folded, the tasks, the pending SLA timers by id). A `TimerCancelled` names only its timer: this document says whose it
 * was, so the projection reads one document per customer whatever the event.
 */
export const WORK_CUSTOMERS = 'work_customers';
/**
 * `work_teams`: per workspace, its team ids (from the `teams-` stream), so that a task opened for a team (a `task`
 * step's `owner` naming a team) waits in the team's queue (`team` set, no assignee) rather than as a member's.
 */
export const WORK_TEAMS = 'work_teams';

/** `dueAt` of an item with no due time: after every ISO time. */
export const NO_DUE = '9999';
/** Longest preview of the last message (characters). */
export const PREVIEW_LENGTH = 140;
/** Sort rank of the priorities (what is due first, then the most urgent). */
export const PRIORITY_RANK: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 };
const rankOf = (priority: string) => PRIORITY_RANK[priority] ?? PRIORITY_RANK.normal;

export type WorkKind = 'conversation' | 'task';
export type WorkStatus = 'open' | 'snoozed' | 'resolved' | 'closed';

/** A work document (the top-level fields the queue queries, then what the list shows). */
export interface WorkDoc {
  workspaceId: string;
  kind: WorkKind;
  itemId: string;
  customerId: string;
  /** '' when nobody holds it (a team's queue, or nothing yet). */
  assignee: string;
  /** '' when none. */
  team: string;
  status: WorkStatus;
  /** 1 while open or snoozed. */
  open: 0 | 1;
  priority: string;
  /** The earliest pending (or missed and not yet met) SLA due time; a task's own due time otherwise; NO_DUE when none. */
  dueAt: string;
  /** Time of the last change (event time). */
  updatedAt: string;
  /** `dueAt|rank of priority|updatedAt|document id`: the queue's order, and the keyset of its cursor. */
  sortKey: string;
  /** A conversation's subject, a task's title ('' when none). */
  title: string;
  /** Where the customer's side happens (conversations), '' for tasks. */
  channel: string;
  /** The last customer or agent message, at most PREVIEW_LENGTH characters; internal notes never show here. */
  preview: string;
  /** Who wrote last: `note` for an internal note (its text is not shown); '' when nobody did. */
  lastFrom: 'customer' | 'agent' | 'note' | '';
  /** The last message's id (customer or agent), '' when none. */
  lastMessageId: string;
  /** Conversations: who must answer; tasks: `agent` while open. */
  waitingOn: 'agent' | 'customer' | '';
  /** 1 once an SLA target of the current open period was missed. */
  slaBreached: 0 | 1;
  /** The targets missed in the current open period. */
  breaches: string[];
  /** A conversation's version (its `If-Match`); 0 for tasks. */
  version: number;
}

interface PendingSla {
  target: string;
  dueAt: string;
  fired: boolean;
}

interface ItemState {
  doc: WorkDoc;
  /** Position of the last event applied to the item, as a decimal string. */
  pos: string;
  /** Pending SLA timers of the item, by timer id. */
  sla: Record<string, PendingSla>;
  /** A task's own due time ('' when none). */
  taskDueAt: string;
  /** A conversation's folded state (its thread trimmed to its last message). */
  conversation?: ConversationState;
}

interface CustomerWork {
  workspaceId: string;
  customerId: string;
  /** By work document id. */
  items: Record<string, ItemState>;
  /** Timer id -> work document id, for every SLA timer scheduled (cancelled and fired ones too). */
  timers: Record<string, string>;
}

const enc = encodeURIComponent;
/** `<kind>:<encoded ws>/<encoded customer>/<itemId>` */
export const workDocId = (kind: WorkKind, workspaceId: string, customerId: string, itemId: string): string =>
  `${kind}:${enc(workspaceId)}/${enc(customerId)}/${itemId}`;
const customerWorkId = (workspaceId: string, customerId: string) => `${enc(workspaceId)}/${enc(customerId)}`;
const isTeamsEvent = (e: RecordedEvent) => e.streamId.startsWith('teams-') && (e.type === 'TeamDefined' || e.type === 'TeamRemoved');

/** The queue's order of a document: due first, then urgent first, then the longest unchanged, then by id. */
export const sortKeyOf = (doc: Pick<WorkDoc, 'dueAt' | 'priority' | 'updatedAt'>, id: string): string =>
  `${doc.dueAt}|${rankOf(doc.priority)}|${doc.updatedAt}|${id}`;

const iso = (value: unknown): string => {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : NO_DUE;
};

const preview = (body: string) => (body.length > PREVIEW_LENGTH ? `${body.slice(0, PREVIEW_LENGTH - 1)}…` : body);

const isCustomerEvent = (e: RecordedEvent) => e.streamId.startsWith('customer-') && !!e.metadata.customerId;

const TASK_TYPES = new Set(['CsmTaskOpened', 'CsmTaskAssigned', 'CsmTaskClosed']);
const TIMER_TYPES = new Set(['TimerScheduled', 'TimerFired', 'TimerCancelled']);

/** The event types the projection folds. */
export const WORK_EVENT_TYPES = new Set<string>([
  ...['ConversationStarted', 'CustomerReplied', 'AgentReplied', 'InternalNoteAdded', 'ConversationAssigned', 'ConversationTagged'],
  ...['ConversationSnoozed', 'ConversationResolved', 'ConversationReopened', 'SatisfactionRated'],
  ...TASK_TYPES,
  ...TIMER_TYPES,
  'SlaBreached',
  'CustomerForgotten',
]);

const relevant = (e: RecordedEvent) => isCustomerEvent(e) && WORK_EVENT_TYPES.has(e.type);

const slaPayload = (e: RecordedEvent) => {
  const d = e.data as { purpose?: string; payload?: Record<string, unknown> };
  if (d.purpose !== 'sla' || !d.payload) return undefined;
  const subject = d.payload.subject === 'task' ? 'task' : d.payload.subject === 'conversation' ? 'conversation' : undefined;
  return subject && typeof d.payload.id === 'string'
    ? { kind: subject as WorkKind, itemId: d.payload.id, target: String(d.payload.target ?? ''), team: d.payload.team }
    : undefined;
};

function emptyDoc(kind: WorkKind, workspaceId: string, customerId: string, itemId: string): WorkDoc {
  return {
    workspaceId,
    kind,
    itemId,
    customerId,
    assignee: '',
    team: '',
    status: 'open',
    open: 1,
    priority: 'normal',
    dueAt: NO_DUE,
    updatedAt: '',
    sortKey: '',
    title: '',
    channel: '',
    preview: '',
    lastFrom: '',
    lastMessageId: '',
    waitingOn: 'agent',
    slaBreached: 0,
    breaches: [],
    version: 0,
  };
}

/** Which item an event is about (undefined: none, or a timer this customer's state does not know). */
function itemOf(e: RecordedEvent, state: CustomerWork | undefined): { kind: WorkKind; itemId: string } | undefined {
  const d = e.data as Record<string, unknown>;
  if (isConversationEvent(e)) return { kind: 'conversation', itemId: String(d.conversationId) };
  if (TASK_TYPES.has(e.type)) return { kind: 'task', itemId: String(d.taskId) };
  if (e.type === 'SlaBreached') return { kind: d.subject === 'task' ? 'task' : 'conversation', itemId: String(d.id) };
  if (e.type === 'TimerScheduled') return slaPayload(e);
  if (e.type === 'TimerFired' || e.type === 'TimerCancelled') {
    const docId = state?.timers[String(d.timerId)];
    const item = docId ? state?.items[docId] : undefined;
    return item ? { kind: item.doc.kind, itemId: item.doc.itemId } : undefined;
  }
  return undefined;
}

/** Folds one event into the item. */
function evolveItem(item: ItemState, e: RecordedEvent, teams: readonly string[] = []): ItemState {
  const at = iso(e.metadata.occurredAt);
  const d = e.data as Record<string, unknown>;
  let doc: WorkDoc = { ...item.doc };
  let sla = item.sla;
  let taskDueAt = item.taskDueAt;
  let conversation = item.conversation;
  let touched = true;
  if (isConversationEvent(e)) {
    const before = conversation ?? initialConversationState(doc.itemId);
    const after = evolveConversation(before, e);
    const last = after.thread.at(-1);
    conversation = { ...after, thread: last && last.from !== 'note' ? [{ ...last, body: preview(last.body) }] : before.thread };
    doc = {
      ...doc,
      status: after.status,
      open: after.status === 'resolved' ? 0 : 1,
      priority: after.priority,
      assignee: after.assignee ?? '',
      team: after.team ?? '',
      title: after.subject ?? '',
      channel: after.channel,
      waitingOn: after.waitingOn,
      version: after.version,
    };
    if (e.type === 'CustomerReplied' || e.type === 'AgentReplied') {
      const m = e.data as EventDataByType['CustomerReplied'];
      doc = { ...doc, preview: preview(m.body), lastFrom: e.type === 'CustomerReplied' ? 'customer' : 'agent', lastMessageId: m.messageId };
    }
    if (e.type === 'InternalNoteAdded') doc = { ...doc, lastFrom: 'note' };
    // a late first response: the missed first-response target is met now
    if (e.type === 'AgentReplied')
      sla = Object.fromEntries(Object.entries(sla).filter(([, s]) => !(s.fired && s.target === 'first-response')));
    if (e.type === 'ConversationResolved') sla = {};
    if (e.type === 'ConversationReopened') doc = { ...doc, slaBreached: 0, breaches: [] };
  } else
    switch (e.type) {
      case 'CsmTaskOpened': {
        const t = e.data as EventDataByType['CsmTaskOpened'];
        taskDueAt = t.dueAt !== undefined ? iso(t.dueAt) : '';
        const forTeam = t.owner !== undefined && teams.includes(t.owner);
        doc = {
          ...doc,
          title: t.title,
          priority: t.priority,
          assignee: forTeam ? '' : (t.owner ?? doc.assignee),
          team: forTeam ? t.owner! : doc.team,
          status: 'open',
          open: 1,
          waitingOn: 'agent',
        };
        break;
      }
      case 'CsmTaskAssigned':
        doc = { ...doc, assignee: String(d.assignee) };
        break;
      case 'CsmTaskClosed':
        doc = { ...doc, status: 'closed', open: 0, waitingOn: '' };
        sla = {};
        break;
      case 'SlaBreached': {
        const target = String(d.target);
        doc = { ...doc, slaBreached: 1, breaches: doc.breaches.includes(target) ? doc.breaches : [...doc.breaches, target] };
        if (doc.team === '' && typeof d.team === 'string') doc.team = d.team;
        break;
      }
      case 'TimerScheduled': {
        const p = slaPayload(e)!;
        touched = false;
        if (doc.open) sla = { ...sla, [String(d.timerId)]: { target: p.target, dueAt: iso(d.dueAt), fired: false } };
        if (doc.team === '' && typeof p.team === 'string') doc.team = p.team;
        break;
      }
      case 'TimerFired': {
        touched = false;
        const s = sla[String(d.timerId)];
        if (s) sla = { ...sla, [String(d.timerId)]: { ...s, fired: true } };
        break;
      }
      case 'TimerCancelled': {
        touched = false;
        const { [String(d.timerId)]: _gone, ...rest } = sla;
        sla = rest;
        break;
      }
    }
  const dues = Object.values(sla)
    .map((s) => s.dueAt)
    .sort();
  doc.dueAt = dues[0] ?? (doc.kind === 'task' && taskDueAt && doc.open ? taskDueAt : NO_DUE);
  if (touched || doc.updatedAt === '') doc.updatedAt = at;
  return { doc, pos: e.position.toString(), sla, taskDueAt, ...(conversation && { conversation }) };
}

/**
 * `work`: the CSM's queue. One document per conversation and per CSM task of every customer, with who holds it (member,
 * team), its status, priority, when it is due (its earliest pending SLA timer, else a task's due time) and what the list
 * shows (title, a preview of the last message that is never an internal note's text, who is waiting, SLA breached).
 * Folded from the conversation events (evolveConversation), CsmTaskOpened/Assigned/Closed, SlaBreached and the SLA
 * timers (TimerScheduled/Fired/Cancelled with purpose `sla`); a forgotten customer's items are closed and emptied.
 */
export const workProjection: Projection = {
  name: WORK,
  collections: [
    {
      name: WORK,
      indexes: [
        // a member's queue, and a team's (its unassigned items), in the queue's order
        ['workspaceId', 'assignee', 'open', 'sortKey'],
        ['workspaceId', 'team', 'assignee', 'open', 'sortKey'],
        // the whole workspace (admin, analyst), and the load per member (countBy assignee)
        ['workspaceId', 'open', 'sortKey'],
        ['workspaceId', 'open', 'assignee'],
      ],
    },
    { name: WORK_CUSTOMERS, indexes: [] },
    { name: WORK_TEAMS, indexes: [] },
  ],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const refs = new Map<string, DocRef>();
    const add = (collection: string, id: string) => refs.set(`${collection}/${id}`, { collection, id });
    for (const e of events) {
      if (isTeamsEvent(e) || e.type === 'CsmTaskOpened') add(WORK_TEAMS, enc(e.metadata.workspaceId));
      if (!relevant(e)) continue;
      const { workspaceId: ws, customerId } = e.metadata;
      add(WORK_CUSTOMERS, customerWorkId(ws, customerId));
      const item = itemOf(e, undefined);
      if (item) add(WORK, workDocId(item.kind, ws, customerId, item.itemId));
    }
    return [...refs.values()];
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      if (isTeamsEvent(e)) {
        const teamId = String((e.data as { teamId: string }).teamId);
        batch.update<{ workspaceId: string; teams: string[] }>(
          WORK_TEAMS,
          enc(e.metadata.workspaceId),
          e.position,
          () => ({ workspaceId: e.metadata.workspaceId, teams: [] }),
          (doc) => ({ ...doc, teams: [...doc.teams.filter((t) => t !== teamId), ...(e.type === 'TeamDefined' ? [teamId] : [])] }),
        );
        continue;
      }
      if (!relevant(e)) continue;
      const { workspaceId: ws, customerId } = e.metadata;
      const cid = customerWorkId(ws, customerId);
      const stored = batch.get<CustomerWork>(WORK_CUSTOMERS, cid);
      if (stored && stored.pos >= e.position) {
        repair(batch, stored.doc, e);
        continue;
      }
      const state: CustomerWork = stored?.doc ?? { workspaceId: ws, customerId, items: {}, timers: {} };
      if (e.type === 'CustomerForgotten') {
        for (const [id, item] of Object.entries(state.items)) {
          const forgotten = emptyDoc(item.doc.kind, ws, customerId, item.doc.itemId);
          const doc: WorkDoc = {
            ...forgotten,
            status: item.doc.kind === 'task' ? 'closed' : 'resolved',
            open: 0,
            waitingOn: '',
            updatedAt: iso(e.metadata.occurredAt),
          };
          doc.sortKey = sortKeyOf(doc, id);
          batch.update<WorkDoc>(
            WORK,
            id,
            e.position,
            () => doc,
            () => doc,
          );
        }
        const empty: CustomerWork = { workspaceId: ws, customerId, items: {}, timers: {} };
        batch.update<CustomerWork>(
          WORK_CUSTOMERS,
          cid,
          e.position,
          () => empty,
          () => empty,
        );
        continue;
      }
      const ref = itemOf(e, state);
      if (!ref) continue;
      if (e.type === 'TimerScheduled' && !state.items[workDocId(ref.kind, ws, customerId, ref.itemId)]) continue; // an item not known (yet)
      const id = workDocId(ref.kind, ws, customerId, ref.itemId);
      const before: ItemState = state.items[id] ?? {
        doc: emptyDoc(ref.kind, ws, customerId, ref.itemId),
        pos: '0',
        sla: {},
        taskDueAt: '',
      };
      const teams = e.type === 'CsmTaskOpened' ? (batch.get<{ teams: string[] }>(WORK_TEAMS, enc(ws))?.doc.teams ?? []) : [];
      const item = evolveItem(before, e, teams);
      item.doc.sortKey = sortKeyOf(item.doc, id);
      let timers = e.type === 'TimerScheduled' ? { ...state.timers, [String((e.data as { timerId: string }).timerId)]: id } : state.timers;
      const items = { ...state.items, [id]: item };
      if (item.doc.kind === 'task' && item.doc.status === 'closed') {
        // a closed task never opens again: its document stays, the customer's state forgets it (and its timers)
        delete items[id];
        timers = Object.fromEntries(Object.entries(timers).filter(([, of]) => of !== id));
      }
      const next: CustomerWork = { ...state, items, timers };
      batch.update<CustomerWork>(
        WORK_CUSTOMERS,
        cid,
        e.position,
        () => next,
        () => next,
      );
      batch.update<WorkDoc>(
        WORK,
        id,
        e.position,
        () => item.doc,
        () => item.doc,
      );
    }
    return batch.puts();
  },
};

/**
 * An event the customer's state already includes (a batch replayed after a crash between the writes of one batch, on
 * MongoDB): the item's document is put again from that state, where it is behind it.
 */
function repair(batch: DocBatch, state: CustomerWork, e: RecordedEvent): void {
  const ref = itemOf(e, state);
  if (!ref) return;
  const id = workDocId(ref.kind, state.workspaceId, state.customerId, ref.itemId);
  const item = state.items[id];
  const current = batch.get<WorkDoc>(WORK, id);
  if (item && (!current || current.pos < BigInt(item.pos)))
    batch.update<WorkDoc>(
      WORK,
      id,
      BigInt(item.pos),
      () => item.doc,
      () => item.doc,
    );
}
