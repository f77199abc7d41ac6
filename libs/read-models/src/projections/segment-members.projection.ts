import { eventTime, type EventDataByType, type RecordedEvent } from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

/** `segment_members`: one document per customer who ever entered a segment; `member: 1` while in it (0 once left). */
export const SEGMENT_MEMBERS = 'segment_members';
/** `segment_counts`: per workspace, segment and UTC day: customers who entered, who left, and the members after the day's last change. */
export const SEGMENT_COUNTS = 'segment_counts';
/** `segment_totals`: per workspace and segment, the members now (what a day's `members` is counted from). */
export const SEGMENT_TOTALS = 'segment_totals';

export interface SegmentMemberDoc {
  workspaceId: string;
  segmentId: string;
  customerId: string;
  /** When the customer last entered (the SegmentEntered's event time, ISO). */
  enteredAt: string;
  /** When the customer last left ('' while in). */
  leftAt: string;
  /** The segment's version the customer entered. */
  version: number;
  member: 0 | 1;
}

export interface SegmentCountDoc {
  workspaceId: string;
  segmentId: string;
  /** YYYY-MM-DD (UTC) of the changes' event time. */
  day: string;
  entered: number;
  left: number;
  /** Members after the last change of the day. */
  members: number;
}

export interface SegmentTotalDoc {
  workspaceId: string;
  segmentId: string;
  members: number;
}

const enc = encodeURIComponent;
/** Document id of a membership: `<workspace>/<segment>/<customer>`, each part URI-encoded. */
export const segmentMemberDocId = (workspaceId: string, segmentId: string, customerId: string) =>
  `${enc(workspaceId)}/${enc(segmentId)}/${enc(customerId)}`;
export const segmentCountDocId = (workspaceId: string, segmentId: string, day: string) => `${enc(workspaceId)}/${enc(segmentId)}/${day}`;
export const segmentTotalDocId = (workspaceId: string, segmentId: string) => `${enc(workspaceId)}/${enc(segmentId)}`;

interface Change {
  entered: boolean;
  workspaceId: string;
  segmentId: string;
  customerId: string;
  version: number;
  at: string;
  day: string;
}

function changeOf(e: RecordedEvent): Change | undefined {
  if ((e.type !== 'SegmentEntered' && e.type !== 'SegmentLeft') || !e.streamId.startsWith('customer-')) return undefined;
  const d = e.data as EventDataByType['SegmentEntered'];
  if (typeof d.segmentId !== 'string' || !e.metadata.customerId) return undefined;
  const at = new Date(eventTime(e)).toISOString();
  return {
    entered: e.type === 'SegmentEntered',
    workspaceId: e.metadata.workspaceId,
    segmentId: d.segmentId,
    customerId: e.metadata.customerId,
    version: Number(d.version) || 0,
    at,
    day: at.slice(0, 10),
  };
}

/**
 * `segment-members`: who is in each segment now (`segment_members`, paged by customer id: GET /v1/segments/:id/members)
 * and how many entered, left and were members per day (`segment_counts`: GET /v1/segments/:id/counts). Counted from
 * SegmentEntered / SegmentLeft, which the segment reactor only appends in turn (entered, left, entered, ...) per
 * customer and segment, so each is one member more or less; every document's `pos` makes a replay harmless.
 */
export const segmentMembersProjection: Projection = {
  name: 'segment-members',
  collections: [
    {
      name: SEGMENT_MEMBERS,
      indexes: [
        ['workspaceId', 'segmentId', 'member', 'customerId'],
        ['workspaceId', 'customerId'],
      ],
    },
    { name: SEGMENT_COUNTS, indexes: [['workspaceId', 'segmentId', 'day']] },
    { name: SEGMENT_TOTALS, indexes: [['workspaceId', 'segmentId']] },
  ],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const refs = new Map<string, DocRef>();
    const add = (collection: string, id: string) => refs.set(`${collection}\u0000${id}`, { collection, id });
    for (const e of events) {
      const c = changeOf(e);
      if (!c) continue;
      add(SEGMENT_MEMBERS, segmentMemberDocId(c.workspaceId, c.segmentId, c.customerId));
      add(SEGMENT_COUNTS, segmentCountDocId(c.workspaceId, c.segmentId, c.day));
      add(SEGMENT_TOTALS, segmentTotalDocId(c.workspaceId, c.segmentId));
    }
    return [...refs.values()];
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const c = changeOf(e);
      if (!c) continue;
      const { workspaceId, segmentId, customerId, day } = c;
      const delta = c.entered ? 1 : -1;
      batch.update<SegmentMemberDoc>(
        SEGMENT_MEMBERS,
        segmentMemberDocId(workspaceId, segmentId, customerId),
        e.position,
        () => ({ workspaceId, segmentId, customerId, enteredAt: '', leftAt: '', version: 0, member: 0 }),
        (doc) => (c.entered ? { ...doc, enteredAt: c.at, leftAt: '', version: c.version, member: 1 } : { ...doc, leftAt: c.at, member: 0 }),
      );
      const totalId = segmentTotalDocId(workspaceId, segmentId);
      batch.update<SegmentTotalDoc>(
        SEGMENT_TOTALS,
        totalId,
        e.position,
        () => ({ workspaceId, segmentId, members: 0 }),
        (doc) => ({ ...doc, members: Math.max(0, doc.members + delta) }),
      );
      const members = batch.get<SegmentTotalDoc>(SEGMENT_TOTALS, totalId)?.doc.members ?? 0;
      batch.update<SegmentCountDoc>(
        SEGMENT_COUNTS,
        segmentCountDocId(workspaceId, segmentId, day),
        e.position,
        () => ({ workspaceId, segmentId, day, entered: 0, left: 0, members: 0 }),
        (doc) => ({ ...doc, entered: doc.entered + (c.entered ? 1 : 0), left: doc.left + (c.entered ? 0 : 1), members }),
      );
    }
    return batch.puts();
  },
};
