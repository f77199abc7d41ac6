import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { EventDataByType, RecordedEvent } from '@journey/domain';
import { PREVIEW_LENGTH, READ_MODEL_STORE, WORK, workDocId, type ReadModelStore, type WorkDoc, type WorkKind } from '@journey/read-models';
import { LiveConversations } from '../conversations/live-conversations';

/** Who holds an item: the member ('' nobody) and the team ('' none). */
export interface Holder {
  assignee: string;
  team: string;
}

/** What the agent's stream pushes for one change of an item in their queue. */
export interface WorkChange {
  /** The event's type (CustomerReplied, ConversationAssigned, CsmTaskOpened, SlaBreached, ...). */
  type: string;
  kind: WorkKind;
  itemId: string;
  customerId: string;
  /** Who holds it after the change. */
  assignee: string | null;
  team: string | null;
  at: string;
  eventId: string;
  /** The event's global position (also the SSE event id). */
  position: string;
  /** A customer's or agent's message: its id and the first PREVIEW_LENGTH characters (an internal note: neither). */
  messageId?: string;
  preview?: string;
}

export type WorkListener = (change: WorkChange, before: Holder, after: Holder) => void;

/** Holders remembered per workspace (the most recently changed first to go past it are read again on a miss). */
const HOLDERS_PER_WORKSPACE = 200_000;

interface Workspace {
  listeners: Set<WorkListener>;
  holders: Map<string, Holder>;
  unlisten: () => void;
  /** Changes are handed on in the log's order: a miss (a read of the work document) holds the ones after it. */
  chain: Promise<void>;
}

const NOBODY: Holder = { assignee: '', team: '' };

function itemOf(e: RecordedEvent): { kind: WorkKind; itemId: string } | undefined {
  const d = e.data as Record<string, unknown>;
  if (typeof d.conversationId === 'string') return { kind: 'conversation', itemId: d.conversationId };
  if (typeof d.taskId === 'string') return { kind: 'task', itemId: d.taskId };
  if (e.type === 'SlaBreached') return { kind: d.subject === 'task' ? 'task' : 'conversation', itemId: String(d.id) };
  return undefined;
}

/**
 * The agents' live work feed: the workspace's conversation and task events from the live feed (LiveConversations), each
 * with who holds its item before and after it. Who holds an item is known from the same feed (assignments, task
 * owners), remembered per item while anybody of the workspace listens; an item not seen yet is looked up in the `work`
 * read model once.
 */
@Injectable()
export class WorkFeed implements OnModuleDestroy {
  private readonly workspaces = new Map<string, Workspace>();

  constructor(
    private readonly live: LiveConversations,
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
  ) {}

  /** Listens to the workspace's work changes; returns the unsubscribe. */
  listen(workspaceId: string, listener: WorkListener): () => void {
    let ws = this.workspaces.get(workspaceId);
    if (!ws) {
      const created: Workspace = { listeners: new Set(), holders: new Map(), unlisten: () => undefined, chain: Promise.resolve() };
      created.unlisten = this.live.listen(workspaceId, undefined, (e) => {
        created.chain = created.chain.then(() => this.handle(workspaceId, created, e)).catch(() => undefined);
      });
      this.workspaces.set(workspaceId, (ws = created));
    }
    const joined = ws;
    joined.listeners.add(listener);
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0 && this.workspaces.get(workspaceId) === joined) {
        joined.unlisten();
        this.workspaces.delete(workspaceId);
      }
    };
  }

  /** How many listen to the workspace's changes now (open streams). */
  listening(workspaceId: string): number {
    return this.workspaces.get(workspaceId)?.listeners.size ?? 0;
  }

  onModuleDestroy(): void {
    for (const ws of this.workspaces.values()) ws.unlisten();
    this.workspaces.clear();
  }

  private async handle(workspaceId: string, ws: Workspace, e: RecordedEvent): Promise<void> {
    const item = itemOf(e);
    if (!item) return;
    const id = workDocId(item.kind, workspaceId, e.metadata.customerId, item.itemId);
    const isNew = e.type === 'ConversationStarted' || e.type === 'CsmTaskOpened';
    const known = ws.holders.get(id) ?? (isNew ? NOBODY : await this.lookup(id));
    const before = known ?? NOBODY;
    let after = before;
    if (e.type === 'ConversationAssigned') {
      const d = e.data as EventDataByType['ConversationAssigned'];
      after = { assignee: d.assignee ?? '', team: d.team ?? before.team };
    } else if (e.type === 'CsmTaskOpened') after = { assignee: (e.data as EventDataByType['CsmTaskOpened']).owner ?? '', team: '' };
    else if (e.type === 'CsmTaskAssigned') after = { ...before, assignee: (e.data as EventDataByType['CsmTaskAssigned']).assignee };
    else if (e.type === 'SlaBreached' && before.team === '' && typeof (e.data as { team?: unknown }).team === 'string')
      after = { ...before, team: (e.data as { team: string }).team };
    // an item the read model does not have yet is not remembered as nobody's: the next event looks it up again
    if (known !== undefined || after !== before) this.remember(ws, id, after);
    const d = e.data as { messageId?: string; body?: string };
    const message = (e.type === 'CustomerReplied' || e.type === 'AgentReplied') && typeof d.body === 'string';
    const change: WorkChange = {
      type: e.type,
      kind: item.kind,
      itemId: item.itemId,
      customerId: e.metadata.customerId,
      assignee: after.assignee || null,
      team: after.team || null,
      at: e.metadata.occurredAt,
      eventId: e.id,
      position: e.position.toString(),
      ...(message && { messageId: d.messageId, preview: d.body!.slice(0, PREVIEW_LENGTH) }),
    };
    for (const listener of ws.listeners) {
      try {
        listener(change, before, after);
      } catch {
        // a listener's failure (a closed connection) is its own
      }
    }
  }

  private async lookup(id: string): Promise<Holder | undefined> {
    try {
      const doc = (await this.store.get<WorkDoc>(WORK, id))?.doc;
      return doc ? { assignee: doc.assignee, team: doc.team } : undefined;
    } catch {
      return undefined;
    }
  }

  private remember(ws: Workspace, id: string, holder: Holder): void {
    ws.holders.delete(id);
    ws.holders.set(id, holder);
    if (ws.holders.size > HOLDERS_PER_WORKSPACE) ws.holders.delete(ws.holders.keys().next().value!);
  }
}
