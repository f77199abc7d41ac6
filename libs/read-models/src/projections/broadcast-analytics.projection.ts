import {
  BROADCAST_EVENT_TYPES,
  broadcastMessageId,
  broadcastOfPurpose,
  MESSAGE_STATUS,
  type BroadcastCounts,
  type EventDataByType,
  type RecordedEvent,
} from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

/** `broadcasts`: one document per broadcast (the list of GET /v1/broadcasts). */
export const BROADCASTS = 'broadcasts';
/**
 * `broadcast_messages`: one document per broadcast and member reached (its message id): a local-time timer waiting
 * (`pending`), then the decision and the delivery outcomes. Also the message id -> broadcast lookup that lets
 * MessageDelivered/Opened/Clicked (which carry only the message id) count.
 */
export const BROADCAST_MESSAGES = 'broadcast_messages';

const docId = (...parts: string[]) => parts.map((p) => encodeURIComponent(p)).join('/');
export const broadcastDocId = (workspaceId: string, broadcastId: string) => docId(workspaceId, broadcastId);
export const broadcastMessageDocId = (workspaceId: string, messageId: string) => docId(workspaceId, messageId);

export interface BroadcastDoc {
  workspaceId: string;
  broadcastId: string;
  segmentId: string;
  channel: string;
  at: string;
  localTime: string;
  startAt: string;
  scheduledAt: string;
  by: string;
  status: 'scheduled' | 'sending' | 'completed' | 'cancelled';
  /** The fan-out's counts, as of its last progress. */
  counts?: BroadcastCounts;
}

export interface BroadcastMessageDoc {
  workspaceId: string;
  broadcastId: string;
  customerId: string;
  messageId: string;
  status: 'pending' | 'scheduled' | 'suppressed' | 'sent' | 'delivered' | 'failed';
  /** A local-time timer was set for the member. */
  timer: 0 | 1;
  scheduled: 0 | 1;
  /** The reason a guard (or the dispatcher) suppressed it, else ''. */
  suppressedReason: string;
  sent: 0 | 1;
  delivered: 0 | 1;
  failed: 0 | 1;
  opened: 0 | 1;
  clicked: 0 | 1;
}

/** The broadcast a customer event belongs to: a broadcast message's decision, or a member's local-time timer. */
function memberDocOf(e: RecordedEvent): { id: string; broadcastId?: string; messageId: string } | undefined {
  const ws = e.metadata.workspaceId;
  const d = e.data as Record<string, unknown>;
  if (e.type === 'TimerScheduled') {
    const broadcastId = broadcastOfPurpose(String(d.purpose));
    if (broadcastId === undefined || !e.metadata.customerId || !e.streamId.startsWith('customer-')) return undefined;
    const messageId = broadcastMessageId(ws, broadcastId, e.metadata.customerId);
    return { id: broadcastMessageDocId(ws, messageId), broadcastId, messageId };
  }
  if (!MESSAGE_STATUS.has(e.type) || typeof d.messageId !== 'string') return undefined;
  // a test send is never counted
  if (e.type === 'MessageScheduled' && d.test === true) return undefined;
  const broadcastId = typeof d.broadcastId === 'string' ? d.broadcastId : undefined;
  return { id: broadcastMessageDocId(ws, d.messageId), ...(broadcastId !== undefined ? { broadcastId } : {}), messageId: d.messageId };
}

const STATUS_RANK: Record<BroadcastMessageDoc['status'], number> = {
  pending: 0,
  scheduled: 1,
  sent: 2,
  suppressed: 3,
  delivered: 3,
  failed: 3,
};
const advance = (m: BroadcastMessageDoc, status: BroadcastMessageDoc['status']) =>
  STATUS_RANK[status] >= STATUS_RANK[m.status] ? status : m.status;

/**
 * `broadcast-analytics`: per broadcast, its members reached and what came of each (pending local-time timer,
 * scheduled, suppressed by reason, sent, delivered, failed, opened, clicked), counted by the store over
 * `broadcast_messages`; and the broadcasts themselves (`broadcasts`). Messages marked `test` are never counted.
 */
export const broadcastAnalyticsProjection: Projection = {
  name: 'broadcast-analytics',
  collections: [
    { name: BROADCASTS, indexes: [['workspaceId']] },
    { name: BROADCAST_MESSAGES, indexes: [['workspaceId', 'broadcastId']] },
  ],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const refs = new Map<string, DocRef>();
    for (const e of events) {
      if (BROADCAST_EVENT_TYPES.includes(e.type)) {
        const id = broadcastDocId(e.metadata.workspaceId, String(e.data.broadcastId));
        refs.set(`b/${id}`, { collection: BROADCASTS, id });
        continue;
      }
      const m = memberDocOf(e);
      if (m) refs.set(`m/${m.id}`, { collection: BROADCAST_MESSAGES, id: m.id });
    }
    return [...refs.values()];
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const ws = e.metadata.workspaceId;
      if (BROADCAST_EVENT_TYPES.includes(e.type)) {
        applyBroadcast(batch, e);
        continue;
      }
      const m = memberDocOf(e);
      if (!m) continue;
      const current = batch.get<BroadcastMessageDoc>(BROADCAST_MESSAGES, m.id);
      // outcomes of a message no broadcast sent (or of a test send): not ours
      if (!current && m.broadcastId === undefined) continue;
      const initial = (): BroadcastMessageDoc => ({
        workspaceId: ws,
        broadcastId: m.broadcastId!,
        customerId: e.metadata.customerId,
        messageId: m.messageId,
        status: 'pending',
        timer: 0,
        scheduled: 0,
        suppressedReason: '',
        sent: 0,
        delivered: 0,
        failed: 0,
        opened: 0,
        clicked: 0,
      });
      batch.update<BroadcastMessageDoc>(BROADCAST_MESSAGES, m.id, e.position, initial, (doc) => {
        switch (e.type) {
          case 'TimerScheduled':
            return { ...doc, timer: 1 };
          case 'MessageScheduled':
            return { ...doc, status: advance(doc, 'scheduled'), scheduled: 1 };
          case 'MessageSuppressed':
            return { ...doc, status: 'suppressed', suppressedReason: String((e.data as EventDataByType['MessageSuppressed']).reason) };
          case 'MessageSent':
            return { ...doc, status: advance(doc, 'sent'), sent: 1 };
          case 'MessageDelivered':
            return { ...doc, status: 'delivered', delivered: 1 };
          case 'MessageFailed':
            return { ...doc, status: 'failed', failed: 1 };
          case 'MessageOpened':
            return { ...doc, opened: 1 };
          case 'MessageClicked':
            return { ...doc, clicked: 1 };
          default:
            return doc;
        }
      });
    }
    return batch.puts();
  },
};

function applyBroadcast(batch: DocBatch, e: RecordedEvent): void {
  const ws = e.metadata.workspaceId;
  const broadcastId = String(e.data.broadcastId);
  const id = broadcastDocId(ws, broadcastId);
  if (e.type === 'BroadcastScheduled') {
    const d = e.data as EventDataByType['BroadcastScheduled'];
    const doc: BroadcastDoc = {
      workspaceId: ws,
      broadcastId,
      segmentId: d.segmentId,
      channel: d.send.channel,
      at: d.at ?? '',
      localTime: d.localTime ?? '',
      startAt: d.startAt,
      scheduledAt: e.metadata.recordedAt,
      by: d.by ?? '',
      status: 'scheduled',
    };
    batch.update<BroadcastDoc>(
      BROADCASTS,
      id,
      e.position,
      () => doc,
      (b) => ({ ...doc, ...(b.counts ? { counts: b.counts } : {}) }),
    );
    return;
  }
  if (!batch.get<BroadcastDoc>(BROADCASTS, id)) return;
  batch.update<BroadcastDoc>(
    BROADCASTS,
    id,
    e.position,
    () => undefined as never,
    (b) => {
      switch (e.type) {
        case 'BroadcastProgressed':
          return {
            ...b,
            status: b.status === 'scheduled' ? 'sending' : b.status,
            counts: (e.data as EventDataByType['BroadcastProgressed']).counts,
          };
        case 'BroadcastCompleted':
          return {
            ...b,
            status: b.status === 'cancelled' ? b.status : 'completed',
            counts: (e.data as EventDataByType['BroadcastCompleted']).counts,
          };
        default:
          return { ...b, status: 'cancelled' };
      }
    },
  );
}
